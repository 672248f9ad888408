// The DARTS-like space (SPEC §1.1), the exported architecture (§5.1) and the size counter (§3.4).
import { describe, expect, it } from 'vitest';
import { cellEdges, edgeStride, planCells, reductionCells } from '../../src/search-space/darts-like.js';
import { countedSize, deriveArchitecture, type SpaceShape } from '../../src/search-space/derive.js';
import { OPS } from '../../src/search-space/ops.js';
import { NdArray } from '../../src/runtime/ndarray.js';
import { OP_VOCABULARY, type OpName } from '../../src/runtime/protocol.js';

const EDGES = 14;
const K = OP_VOCABULARY.length;

/** A uint8 (layers, 14, 7) mask with a 1 at each [cell, edge, op]. */
function mask(layers: number, ones: [number, number, OpName][]): NdArray {
  const data = new Uint8Array(layers * EDGES * K);
  for (const [cell, edge, op] of ones) data[(cell * EDGES + edge) * K + OP_VOCABULARY.indexOf(op)] = 1;
  return new NdArray('uint8', [layers, EDGES, K], data);
}

describe('cellEdges', () => {
  const edges = cellEdges(4);

  it('14 edges for 4 nodes, indexed in order', () => {
    expect(edges).toHaveLength(14);
    expect(edges.map((e) => e.index)).toEqual([...Array(14).keys()]);
  });

  it.each([
    [2, [0, 1]],
    [3, [2, 3, 4]],
    [4, [5, 6, 7, 8]],
    [5, [9, 10, 11, 12, 13]],
  ])('node %i takes edges %j, one from each earlier node', (node, indices) => {
    const into = edges.filter((e) => e.to === node);
    expect(into.map((e) => e.index)).toEqual(indices);
    expect(into.map((e) => e.from)).toEqual([...Array(node).keys()]);
  });

  it.each([
    [1, 2],
    [2, 5],
    [3, 9],
    [4, 14],
  ])('%i nodes → %i edges', (nodes, count) => {
    expect(cellEdges(nodes)).toHaveLength(count);
  });
});

describe('reductionCells and planCells', () => {
  it.each([
    [8, [2, 5]],
    [14, [4, 9]],
    [3, [1, 2]],
    [6, [2, 4]],
    [20, [6, 13]],
  ])('L = %i → reductions at %j (L//3, 2L//3)', (layers, cells) => {
    expect(reductionCells(layers)).toEqual(cells);
    expect(planCells(layers, 16).filter((c) => c.reduction).map((c) => c.index)).toEqual(cells);
  });

  it.each([
    [8, 16, [16, 16, 32, 32, 32, 64, 64, 64]],
    [3, 4, [4, 8, 16]],
    [14, 44, [44, 44, 44, 44, 88, 88, 88, 88, 88, 176, 176, 176, 176, 176]],
  ])('L = %i, C = %i: channels double at each reduction → %j', (layers, channels, expected) => {
    expect(planCells(layers, channels).map((c) => c.channels)).toEqual(expected);
  });

  it('reductionPrev marks the cell right after each reduction', () => {
    expect(planCells(8, 16).filter((c) => c.reductionPrev).map((c) => c.index)).toEqual([3, 6]);
    expect(planCells(3, 4).map((c) => c.reductionPrev)).toEqual([false, false, true]);
  });
});

describe('edgeStride (SPEC §1.1: edges 0, 1, 2, 3, 5, 6, 9, 10 leave the cell inputs)', () => {
  const [normal, reduction] = [planCells(8, 16)[0]!, planCells(8, 16)[2]!];

  it('a reduction cell has stride 2 exactly on edges 0, 1, 2, 3, 5, 6, 9, 10', () => {
    expect(reduction.reduction).toBe(true);
    const stride2 = cellEdges(4).filter((e) => edgeStride(reduction, e) === 2).map((e) => e.index);
    expect(stride2).toEqual([0, 1, 2, 3, 5, 6, 9, 10]);
  });

  it('a normal cell has stride 1 everywhere', () => {
    expect(cellEdges(4).map((e) => edgeStride(normal, e))).toEqual(Array(14).fill(1));
  });
});

describe('deriveArchitecture (SPEC §5.1)', () => {
  const space: SpaceShape = { in_channels: 1, num_classes: 10, channels: 4, layers: 3, nodes: 4, stem_stride: 2, ops: OP_VOCABULARY };
  // Cells: 0 normal (C 4), 1 reduction (C 8), 2 reduction (C 16).
  const ones: [number, number, OpName][] = [
    [0, 0, 'sep_conv_3x3'],
    [0, 0, 'max_pool_3x3'],
    [0, 13, 'dil_conv_5x5'],
    [1, 4, 'skip_connect'],
    [1, 4, 'sep_conv_5x5'],
    [2, 9, 'avg_pool_3x3'],
    [2, 12, 'dil_conv_3x3'],
  ];
  const arch = deriveArchitecture(space, mask(3, ones));

  it('keeps exactly the ops whose mask is 1, with their edges and nodes', () => {
    const kept = arch.cells.flatMap((c) => c.ops.map((o) => [c.index, o.edge, o.op]));
    expect(kept).toEqual(ones);
    const edges = cellEdges(4);
    for (const cell of arch.cells) for (const op of cell.ops) expect([op.from, op.to]).toEqual([edges[op.edge]!.from, edges[op.edge]!.to]);
  });

  it.each([
    [0, 'sep_conv_3x3', [4, 4, 4]],
    [0, 'max_pool_3x3', [4]],
    [0, 'dil_conv_5x5', [4, 4]],
    [1, 'skip_connect', [8]],
    [1, 'sep_conv_5x5', [8, 8, 8]],
    [2, 'avg_pool_3x3', [16]],
    [2, 'dil_conv_3x3', [16, 16]],
  ])('cell %i %s has widths %j (sep [c,c,c], dil [c,c], others [c])', (cell, op, widths) => {
    expect(arch.cells[cell]!.ops.find((o) => o.op === op)?.widths).toEqual(widths);
  });

  it('carries the space and the per-cell plan', () => {
    expect(arch).toMatchObject({ format: 'mgdarts.architecture/1', search_space: 'darts_like', in_channels: 1, num_classes: 10, channels: 4, layers: 3, nodes: 4, stem_stride: 2 });
    expect(arch.cells.map((c) => [c.reduction, c.channels])).toEqual([[false, 4], [true, 8], [true, 16]]);
    expect(arch.cells[1]!.node_widths).toEqual([8, 8, 8, 8]);
    expect(arch.cells[1]!.input_widths).toEqual([8, 8]);
  });

  it('an all-zero mask keeps nothing; an all-ones mask keeps every op', () => {
    expect(deriveArchitecture(space, mask(3, [])).cells.every((c) => c.ops.length === 0)).toBe(true);
    const full = new NdArray('uint8', [3, EDGES, K], new Uint8Array(3 * EDGES * K).fill(1));
    expect(deriveArchitecture(space, full).cells.map((c) => c.ops.length)).toEqual([98, 98, 98]);
  });

  it('the mask columns follow `space.ops`, not the whole vocabulary', () => {
    const sub: SpaceShape = { ...space, layers: 1, ops: ['max_pool_3x3', 'skip_connect'] };
    const data = new Uint8Array(EDGES * 2);
    data[5 * 2 + 0] = 1; // edge 5, column 0 = max_pool_3x3
    const a = deriveArchitecture(sub, new NdArray('uint8', [1, EDGES, 2], data));
    expect(a.cells[0]!.ops.map((o) => [o.edge, o.op])).toEqual([[5, 'max_pool_3x3']]);
  });
});

describe('countedSize (SPEC §3.4), one op at a time', () => {
  // L = 3, C = 4: cell 0 normal at c = 4, cell 1 reduction at c = 8, cell 2 reduction at c = 16.
  const space = { channels: 4, layers: 3, nodes: 4, ops: OP_VOCABULARY };
  const c = 4;

  it.each<[string, [number, number, OpName], number]>([
    ['sep_conv_3x3: 2·(9c + c²)', [0, 0, 'sep_conv_3x3'], 2 * (9 * c + c * c)],
    ['sep_conv_5x5: 2·(25c + c²)', [0, 7, 'sep_conv_5x5'], 2 * (25 * c + c * c)],
    ['dil_conv_3x3: 9c + c²', [0, 3, 'dil_conv_3x3'], 9 * c + c * c],
    ['dil_conv_5x5: 25c + c²', [0, 13, 'dil_conv_5x5'], 25 * c + c * c],
    ['skip on a normal edge: 0', [0, 0, 'skip_connect'], 0],
    ['skip on a stride-2 edge of a reduction cell (c = 8): c²', [1, 0, 'skip_connect'], 8 * 8],
    ['skip on edge 10 of a reduction cell (c = 16): c²', [2, 10, 'skip_connect'], 16 * 16],
    ['skip on a stride-1 edge of a reduction cell: 0', [1, 4, 'skip_connect'], 0],
    ['avg_pool_3x3: 0', [0, 1, 'avg_pool_3x3'], 0],
    ['max_pool_3x3 on a stride-2 edge: 0', [1, 1, 'max_pool_3x3'], 0],
    ['sep_conv_3x3 in a reduction cell (c = 8), stride 2: 2·(9c + c²)', [1, 0, 'sep_conv_3x3'], 2 * (9 * 8 + 64)],
    ['dil_conv_5x5 in the last cell (c = 16): 25c + c²', [2, 11, 'dil_conv_5x5'], 25 * 16 + 256],
  ])('%s', (_name, one, expected) => {
    expect(countedSize(space, mask(3, [one]))).toBe(expected);
  });

  it('is additive over ops', () => {
    const ones: [number, number, OpName][] = [
      [0, 0, 'sep_conv_3x3'],
      [0, 0, 'dil_conv_5x5'],
      [1, 0, 'skip_connect'],
      [2, 12, 'max_pool_3x3'],
    ];
    expect(countedSize(space, mask(3, ones))).toBe(2 * (9 * 4 + 16) + (25 * 4 + 16) + 64);
  });

  it('the dense supernet: every op on every edge of every cell', () => {
    const full = new NdArray('uint8', [3, EDGES, K], new Uint8Array(3 * EDGES * K).fill(1));
    const perCell = (ch: number, reduction: boolean) =>
      14 * (2 * (9 * ch + ch * ch) + 2 * (25 * ch + ch * ch) + (9 * ch + ch * ch) + (25 * ch + ch * ch)) + (reduction ? 8 * ch * ch : 0);
    expect(countedSize(space, full)).toBe(perCell(4, false) + perCell(8, true) + perCell(16, true));
  });

  it('every op in the vocabulary declares itself', () => {
    expect(Object.keys(OPS).sort()).toEqual([...OP_VOCABULARY].sort());
    for (const name of OP_VOCABULARY) expect(OPS[name].name).toBe(name);
  });
});
