// Generates py_runtime/mgdarts_runtime/protocol.json from protocol.ts (run: npm run gen:protocol).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PROTOCOL_JSON } from '../paths.js';
import {
  CONTROL_TYPES,
  DTYPES,
  ERROR_CODES,
  MAX_MESSAGE_BYTES,
  MOBILENET_OP_VOCABULARY,
  NDARRAY_KEY,
  OP_VOCABULARY,
  PROTOCOL_VERSION,
  REQUESTS,
  opVocabularyHash,
} from './protocol.js';

const NDARRAY_SCHEMA = {
  type: 'object',
  properties: { [NDARRAY_KEY]: { type: 'object' } },
  required: [NDARRAY_KEY],
  additionalProperties: false,
};

function toSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, {
    unrepresentable: 'any',
    // NdArray fields travel as descriptors; say so in the schema instead of leaving them open.
    override: (ctx) => {
      const def = (ctx.zodSchema as { _zod?: { def?: { type?: string } } })._zod?.def;
      if (def?.type === 'custom') Object.assign(ctx.jsonSchema, NDARRAY_SCHEMA);
    },
  });
}

/** The generated document, as a string (also used by the drift test). */
export function renderProtocolJson(): string {
  const requests: Record<string, unknown> = {};
  for (const [type, spec] of Object.entries(REQUESTS)) {
    requests[type] = { params: toSchema(spec.params), result: toSchema(spec.result) };
  }
  const doc = {
    $comment: 'Generated from src/runtime/protocol.ts by `npm run gen:protocol`. Do not edit.',
    protocol_version: PROTOCOL_VERSION,
    op_vocabulary: OP_VOCABULARY,
    op_vocab_hash: opVocabularyHash(OP_VOCABULARY),
    mobilenet_op_vocabulary: MOBILENET_OP_VOCABULARY,
    error_codes: ERROR_CODES,
    control_types: CONTROL_TYPES,
    ndarray_key: NDARRAY_KEY,
    dtypes: DTYPES,
    max_message_bytes: MAX_MESSAGE_BYTES,
    requests,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(PROTOCOL_JSON, renderProtocolJson());
  console.log(`wrote ${PROTOCOL_JSON}`);
}
