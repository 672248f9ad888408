// The bind rule on the CLI side: the same endpoints count as local as in the runtime's security.is_loopback.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkBind, checkEndpoint, isLoopback } from '../../src/runtime/endpoint.js';

const CASES: [string, boolean][] = [
  ['ipc:///tmp/x.sock', true], ['tcp://127.0.0.1:5555', true], ['tcp://127.9.0.1:1', true], ['tcp://[::1]:5555', true],
  ['tcp://localhost:5555', true], ['tcp://0.0.0.0:5555', false], ['tcp://*:5555', false], ['tcp://10.0.0.2:5555', false],
  ['tcp://gpu-box:5555', false], ['tcp://eth0:5555', false],
];

describe('endpoints', () => {
  it.each(CASES)('%s is loopback: %s', (endpoint, local) => {
    expect(isLoopback(endpoint)).toBe(local);
    if (local) expect(() => checkBind(endpoint, undefined)).not.toThrow();
    else expect(() => checkBind(endpoint, undefined)).toThrow(/without CURVE keys/);
    expect(() => checkBind(endpoint, 'keys')).not.toThrow();
  });

  it('refuses what is no ZeroMQ endpoint, naming the flag', () => {
    for (const bad of ['localhost:5555', 'http://x', 'tcp://', '']) {
      expect(() => checkEndpoint(bad, '--runtime')).toThrow(UsageError);
      expect(() => checkEndpoint(bad, '--runtime')).toThrow(/--runtime expects a ZeroMQ endpoint/);
    }
  });
});
