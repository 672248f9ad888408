// ZeroMQ CURVE keys for a runtime on a network: `mgdarts runtime keygen` writes them, the runtime serves only the
// clients listed in its key directory, and the CLI connects with the client key pair and the server's public key.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as zmq from 'zeromq';
import { UsageError } from '../errors.js';

export interface CurveClientKeys {
  serverPublicKey: string;
  publicKey: string;
  secretKey: string;
}

export const KEY_FILES = {
  serverPublic: 'server.key',
  serverSecret: 'server.key_secret',
  clientPublic: 'client.key',
  clientSecret: 'client.key_secret',
  /** Public certificates of the clients the runtime serves. */
  clientsDir: 'clients',
} as const;

/** ZeroMQ's certificate text (what pyzmq's zmq.auth.load_certificate reads). */
function certificate(publicKey: string, secretKey?: string): string {
  const kind = secretKey ? 'Secret' : 'Public';
  const lines = [`#   ZeroMQ CURVE ${kind} Certificate (mgdarts)`, '', 'metadata', 'curve', `    public-key = "${publicKey}"`];
  if (secretKey) lines.push(`    secret-key = "${secretKey}"`);
  return `${lines.join('\n')}\n`;
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A server and a client key pair in `dir`; the client is authorised. Refuses to overwrite existing keys. */
export function generateKeys(dir: string): { dir: string; files: string[] } {
  const root = resolve(dir);
  if (existsSync(join(root, KEY_FILES.serverSecret))) {
    throw new UsageError(`${root} already holds CURVE keys`, 'pick another --dir, or delete the old keys first');
  }
  mkdirSync(join(root, KEY_FILES.clientsDir), { recursive: true, mode: 0o700 });
  const server = zmq.curveKeyPair();
  const client = zmq.curveKeyPair();
  writeFileSync(join(root, KEY_FILES.serverPublic), certificate(server.publicKey));
  writeSecret(join(root, KEY_FILES.serverSecret), certificate(server.publicKey, server.secretKey));
  writeFileSync(join(root, KEY_FILES.clientPublic), certificate(client.publicKey));
  writeSecret(join(root, KEY_FILES.clientSecret), certificate(client.publicKey, client.secretKey));
  writeFileSync(join(root, KEY_FILES.clientsDir, KEY_FILES.clientPublic), certificate(client.publicKey));
  const files = [KEY_FILES.serverPublic, KEY_FILES.serverSecret, KEY_FILES.clientPublic, KEY_FILES.clientSecret, join(KEY_FILES.clientsDir, KEY_FILES.clientPublic)];
  return { dir: root, files };
}

function readKey(path: string, field: 'public-key' | 'secret-key'): string {
  if (!existsSync(path)) throw new UsageError(`CURVE key file ${path} not found`, 'make keys with `mgdarts runtime keygen --dir <dir>` and pass --keys <dir>');
  const match = readFileSync(path, 'utf8').match(new RegExp(`^\\s*${field}\\s*=\\s*"([^"]{40})"`, 'm'));
  if (!match?.[1]) throw new UsageError(`${path} holds no ${field}`, 'regenerate the keys with `mgdarts runtime keygen`');
  return match[1];
}

/** The client side of a key directory: its key pair and the server's public key. */
export function readClientKeys(dir: string): CurveClientKeys {
  const root = resolve(dir);
  return {
    serverPublicKey: readKey(join(root, KEY_FILES.serverPublic), 'public-key'),
    publicKey: readKey(join(root, KEY_FILES.clientSecret), 'public-key'),
    secretKey: readKey(join(root, KEY_FILES.clientSecret), 'secret-key'),
  };
}
