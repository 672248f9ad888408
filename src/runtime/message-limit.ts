// The largest message the client sends: protocol.ts's MAX_MESSAGE_BYTES, or MGDARTS_MAX_MESSAGE_BYTES, which
// the runtime reads too (a runtime the CLI starts inherits it).
import { UsageError } from '../errors.js';
import { MAX_MESSAGE_BYTES } from './protocol.js';

export const MAX_MESSAGE_ENV = 'MGDARTS_MAX_MESSAGE_BYTES';

export function maxMessageBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_MESSAGE_ENV];
  if (raw === undefined || raw === '') return MAX_MESSAGE_BYTES;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN; // digits only, as the runtime's int() reads it
  if (!Number.isSafeInteger(value) || value < 1024) {
    const message = `${MAX_MESSAGE_ENV} must be a whole number of bytes ≥ 1024, got ${JSON.stringify(raw)}`;
    throw new UsageError(message, `unset it for the default (${MAX_MESSAGE_BYTES} bytes)`);
  }
  return value;
}
