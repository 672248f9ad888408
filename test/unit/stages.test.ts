// The stage plan of the multi-stage search (SPEC §1.1, §4).
import { describe, expect, it } from 'vitest';
import { planStages, stageEnds } from '../../src/scheduler/stages.js';

describe('stage plan', () => {
  it.each([
    [14, [3, 8, 13]],
    [8, [1, 4, 7]],
    [3, [0, 1, 2]],
  ])('L=%i: stage ends %j', (layers, ends) => {
    expect(stageEnds(layers)).toEqual(ends);
  });

  it('three stages then the final phase, for L=14', () => {
    const plan = planStages(14, 3);
    expect(plan.map((s) => [s.name, s.lastCell, s.head, s.regrow, s.shrinkUpTo, s.regCells.from, s.regCells.to, s.capRatio])).toEqual([
      ['stage1', 3, 'aux1', false, 8, 0, 3, 1],
      ['stage2', 8, 'aux2', true, 13, 4, 8, 1],
      ['stage3', 13, 'main', true, 13, 9, 13, 1],
      ['final', 13, 'main', false, 13, 0, 13, 0.5],
    ]);
  });

  it('stages: 1 is the final phase alone on the whole supernet', () => {
    expect(planStages(8, 1)).toEqual([{ name: 'final', lastCell: 7, head: 'main', regCells: { from: 0, to: 7 }, regrow: false, shrinkUpTo: 7, capRatio: 0.5 }]);
  });

  it('refuses three stages on too few cells', () => {
    expect(() => planStages(2, 3)).toThrow(/at least 3 cells/);
  });
});
