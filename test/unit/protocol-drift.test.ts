// protocol.ts is the one source of the wire; the committed protocol.json must be its exact rendering.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PROTOCOL_JSON } from '../../src/paths.js';
import {
  CONTROL_TYPES,
  ERROR_CODES,
  OP_VOCABULARY,
  PROTOCOL_VERSION,
  REQUEST_TYPES,
  REQUESTS,
  opVocabularyHash,
} from '../../src/runtime/protocol.js';
import { renderProtocolJson } from '../../src/runtime/write-protocol-json.js';

/** SPEC §1.1: the 7 candidate ops, in this order, no `none`. */
const SPEC_OPS = ['skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5', 'avg_pool_3x3', 'max_pool_3x3'];

describe('protocol.json', () => {
  it('is byte for byte what protocol.ts renders', () => {
    const committed = readFileSync(PROTOCOL_JSON, 'utf8');
    const rendered = renderProtocolJson();
    // Not toEqual on the strings: a multi-kilobyte diff would hide the one line that says what to do.
    if (committed !== rendered) expect.fail('protocol.json is stale: run `npm run build && npm run gen:protocol`');
  });

  it('renders deterministically and parses as JSON', () => {
    const text = renderProtocolJson();
    expect(renderProtocolJson()).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
    const doc = JSON.parse(text) as Record<string, unknown>;
    expect(doc.protocol_version).toBe(PROTOCOL_VERSION);
    expect(doc.op_vocabulary).toEqual([...OP_VOCABULARY]);
    expect(doc.op_vocab_hash).toBe(opVocabularyHash());
    expect(doc.error_codes).toEqual([...ERROR_CODES]);
    expect(Object.keys(doc.requests as object)).toEqual(REQUEST_TYPES);
  });
});

describe('protocol.ts', () => {
  it.each(REQUEST_TYPES)('%s has params and result schemas', (type) => {
    const spec = REQUESTS[type];
    expect(spec.params).toBeInstanceOf(z.ZodType);
    expect(spec.result).toBeInstanceOf(z.ZodType);
    // Both are objects, so that a request or a reply is always a map on the wire.
    expect(spec.params.def.type).toBe('object');
    expect(spec.result.def.type).toBe('object');
  });

  it('the rendered params and result are object schemas that reject unknown keys', () => {
    const doc = JSON.parse(renderProtocolJson()) as { requests: Record<string, Record<string, { type?: string; additionalProperties?: unknown }>> };
    for (const [type, spec] of Object.entries(doc.requests)) {
      for (const side of ['params', 'result'] as const) {
        expect(spec[side]?.type, `${type}.${side}`).toBe('object');
        expect(spec[side]?.additionalProperties, `${type}.${side}`).toBe(false);
      }
    }
  });

  it('CONTROL_TYPES ⊂ request types', () => {
    expect(CONTROL_TYPES.length).toBeGreaterThan(0);
    for (const type of CONTROL_TYPES) expect(REQUEST_TYPES).toContain(type);
  });

  it('hello comes first in the vocabulary and is not a control type', () => {
    expect(REQUEST_TYPES[0]).toBe('hello');
    expect(CONTROL_TYPES).not.toContain('hello');
  });

  it('OP_VOCABULARY is the SPEC §1.1 list in SPEC order', () => {
    expect([...OP_VOCABULARY]).toEqual(SPEC_OPS);
    expect(OP_VOCABULARY).not.toContain('none');
  });

  it('the op-vocabulary hash depends on order', () => {
    expect(opVocabularyHash([...SPEC_OPS].reverse())).not.toBe(opVocabularyHash(SPEC_OPS));
    expect(opVocabularyHash(SPEC_OPS)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('wire names are snake_case, error codes are `runtime.snake_case`', () => {
    for (const type of REQUEST_TYPES) expect(type).toMatch(/^[a-z][a-z0-9_]*$/);
    for (const code of ERROR_CODES) expect(code).toMatch(/^runtime\.[a-z][a-z0-9_]*$/);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });
});
