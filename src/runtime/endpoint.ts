// Endpoint checks shared by every command that binds or connects: the shape, and whether it stays on this machine.
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

export const KEYGEN_HINT = 'make keys with `mgdarts runtime keygen --dir <dir>`, then pass --keys <dir> to the runtime and to every client';

export function checkEndpoint(endpoint: string, flag: string): void {
  if (!/^(tcp|ipc):\/\/.+/.test(endpoint)) {
    throw new UsageError(`${flag} expects a ZeroMQ endpoint such as tcp://127.0.0.1:5555 or ipc:///tmp/mgdarts.sock, got "${endpoint}"`);
  }
}

/** ipc, and tcp on 127.0.0.0/8, ::1 or localhost (the same rule as the runtime's security.is_loopback). */
export function isLoopback(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://')) return true;
  if (!endpoint.startsWith('tcp://')) return false;
  const rest = endpoint.slice('tcp://'.length);
  const host = rest.slice(0, rest.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^(0:){7}1$/.test(host);
  return false;
}

/** A bind that other machines could reach needs CURVE keys. */
export function checkBind(endpoint: string, keys: string | undefined): void {
  checkEndpoint(endpoint, '--bind');
  if (!keys && !isLoopback(endpoint)) {
    throw new UsageError(
      `refusing to bind ${endpoint} without CURVE keys: anyone who reaches it could read files and run code on this machine`,
      `${KEYGEN_HINT}; or bind ipc:// or tcp://127.0.0.1`,
    );
  }
}
