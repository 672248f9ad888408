// The adaptive λ of SPEC §3.3 and the commit cadence / stop criteria of SPEC §3.2, §3.4, as tables.
import { describe, expect, it } from 'vitest';
import { isCommitEpoch, stopReason, type StopInput } from '../../src/scheduler/cadence.js';
import { initialLambda, updateLambda, type CommitOutcome, type LambdaParams, type LambdaState } from '../../src/scheduler/lambda-schedule.js';

const P: LambdaParams = { lambda0: 1e-5, c0: 2, prune_threshold: 12, max: 100 };
/** A commit where the task loss dominates: never capped. */
const QUIET: CommitOutcome = { pruned: 0, meanCe: 2.3, meanRegOp: 0 };

function expectClose(got: number, expected: number, rel = 1e-9): void {
  expect(Math.abs(got - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

/** λ after each of `n` commits in a row with the same outcome. */
function run(n: number, outcome: CommitOutcome, start: LambdaState = initialLambda(P), p = P, capRatio = 1): LambdaState[] {
  const states: LambdaState[] = [];
  let s = start;
  for (let i = 0; i < n; i++) states.push((s = updateLambda(s, outcome, p, capRatio)));
  return states;
}

describe('initialLambda', () => {
  it('λ starts at 0, δ at λ0, the cap at max', () => {
    expect(initialLambda(P)).toEqual({ lambda: 0, delta: 1e-5, cap: 100 });
  });
});

describe('updateLambda: nothing pruned (SPEC §3.3: 4e-5, 2e-4, 8.4e-4, 3.4e-3, 1.4e-2, 5.5e-2, 0.22, 0.87)', () => {
  const states = run(8, QUIET);
  // Exact: λ_n = Σ_{k=1..n} λ0·4^k = 4e-5·(4^n − 1)/3; the SPEC prints two significant digits.
  it.each([
    [1, '4e-5'],
    [2, '2e-4'],
    [3, '8.4e-4'],
    [4, '3.4e-3'],
    [5, '1.4e-2'],
    [6, '5.5e-2'],
    [7, '0.22'],
    [8, '0.87'],
  ])('after commit %i λ matches the SPEC value %s', (n, spec) => {
    const lambda = states[n - 1]!.lambda;
    expectClose(lambda, (4e-5 * (4 ** n - 1)) / 3, 1e-9);
    expectClose(lambda, Number(spec), 0.03);
    expect(lambda.toPrecision(2)).toBe(Number(spec).toPrecision(2));
    expectClose(states[n - 1]!.delta, 1e-5 * 4 ** n, 1e-12);
  });

  it.each([
    [4, 3.4e-3],
    [5, 1.364e-2],
    [6, 5.46e-2],
    [7, 0.21844],
    [8, 0.8738],
  ])('after commit %i λ = %f to four digits', (n, exact) => {
    expectClose(states[n - 1]!.lambda, exact, 1e-9);
  });

  it('grows about ×4 per commit', () => {
    for (let i = 3; i < states.length; i++) expect(states[i]!.lambda / states[i - 1]!.lambda).toBeCloseTo(4, 1);
  });
});

describe('updateLambda: the three pruning bands', () => {
  const before: LambdaState = { lambda: 3.4e-3, delta: 2.56e-3, cap: 100 };

  it.each([
    ['≥ 4·12 = 48: λ halves, δ resets to λ0', 48, 1.7e-3, 1e-5],
    ['far above 48: the same', 300, 1.7e-3, 1e-5],
    ['exactly 2·12 = 24: unchanged', 24, 3.4e-3, 2.56e-3],
    ['47: unchanged', 47, 3.4e-3, 2.56e-3],
    ['23: grows by 4δ', 23, 3.4e-3 + 4 * 2.56e-3, 4 * 2.56e-3],
    ['0: grows by 4δ', 0, 3.4e-3 + 4 * 2.56e-3, 4 * 2.56e-3],
  ])('pruned %s', (_name, pruned, lambda, delta) => {
    const after = updateLambda(before, { ...QUIET, pruned }, P);
    expectClose(after.lambda, lambda);
    expectClose(after.delta, delta);
    expect(after.cap).toBe(100);
  });

  it('after a halving, growth restarts from δ = λ0 (the next step adds 4·λ0)', () => {
    const halved = updateLambda({ lambda: 0.2, delta: 0.16, cap: 100 }, { ...QUIET, pruned: 60 }, P);
    const next = updateLambda(halved, QUIET, P);
    expectClose(next.lambda, 0.1 + 4e-5);
    expectClose(next.delta, 4e-5);
  });

  it('the bands scale with prune_threshold and c0', () => {
    const p: LambdaParams = { lambda0: 1e-3, c0: 3, prune_threshold: 5, max: 100 };
    const s: LambdaState = { lambda: 0.09, delta: 0.01, cap: 100 };
    expectClose(updateLambda(s, { ...QUIET, pruned: 20 }, p).lambda, 0.03); // ≥ 20: ÷3
    expectClose(updateLambda(s, { ...QUIET, pruned: 10 }, p).lambda, 0.09); // 10 ≤ n < 20
    expectClose(updateLambda(s, { ...QUIET, pruned: 9 }, p).lambda, 0.09 + 0.09); // δ ×9
  });
});

describe('updateLambda: the cap', () => {
  const s: LambdaState = { lambda: 0.01, delta: 0.01, cap: 100 };

  it.each<[string, CommitOutcome, number, number, number]>([
    // [name, outcome, capRatio, λ after, cap after]
    ['stage: CE < λ·R_op freezes λ at its current value', { pruned: 0, meanCe: 0.3, meanRegOp: 0.5 }, 1, 0.01, 0.01],
    ['final: CE = 0.3 is not < 0.5·0.5 = 0.25, so λ still grows', { pruned: 0, meanCe: 0.3, meanRegOp: 0.5 }, 0.5, 0.05, 100],
    ['final: CE < 0.5·λ·R_op freezes λ', { pruned: 0, meanCe: 0.2, meanRegOp: 0.5 }, 0.5, 0.01, 0.01],
    ['stage: CE = λ·R_op is not below, λ grows', { pruned: 0, meanCe: 0.5, meanRegOp: 0.5 }, 1, 0.05, 100],
    ['capped and many pruned: λ still halves', { pruned: 48, meanCe: 0.1, meanRegOp: 0.5 }, 1, 0.005, 0.01],
  ])('%s', (_name, outcome, capRatio, lambda, cap) => {
    const after = updateLambda(s, outcome, P, capRatio);
    expectClose(after.lambda, lambda);
    expect(after.cap).toBe(cap);
  });

  it('the default capRatio is the stages’ 1', () => {
    expect(updateLambda(s, { pruned: 0, meanCe: 0.3, meanRegOp: 0.5 }, P).lambda).toBe(0.01);
  });

  it('a frozen λ stays frozen for as long as CE stays below the term', () => {
    const states = run(5, { pruned: 0, meanCe: 0.1, meanRegOp: 1 }, s);
    for (const st of states) expect(st.lambda).toBe(0.01);
  });
});

describe('updateLambda: λ never exceeds max', () => {
  it.each([1e-4, 1e-3, 0.05])('max = %f', (max) => {
    const p = { ...P, max };
    const states = run(20, QUIET, initialLambda(p), p);
    for (const st of states) expect(st.lambda).toBeLessThanOrEqual(max);
    expect(states.at(-1)!.lambda).toBe(max);
  });
});

describe('isCommitEpoch (SPEC §3.2: even epochs ≥ 2)', () => {
  it.each([
    [0, false],
    [1, false],
    [2, true],
    [3, false],
    [4, true],
    [5, false],
    [6, true],
    [49, false],
    [50, true],
  ])('epoch %i → %s', (epoch, commit) => {
    expect(isCommitEpoch(epoch)).toBe(commit);
  });
});

describe('stopReason', () => {
  const base: StopInput = { epoch: 4, committed: true, sizeNow: 100, sizeAtStart: 1000, targetRatio: 0.3, maxEpochs: 50 };

  it.each<[string, Partial<StopInput>, ReturnType<typeof stopReason>]>([
    ['commit epoch below the target', {}, 'target_reached'],
    ['commit epoch exactly at the target', { sizeNow: 300 }, 'target_reached'],
    ['commit epoch above the target', { sizeNow: 301 }, null],
    ['below the target but no commit', { epoch: 5, committed: false }, null],
    ['below the target, no commit, last epoch', { epoch: 49, committed: false }, 'epoch_cap'],
    ['above the target at the last epoch', { epoch: 49, committed: false, sizeNow: 900 }, 'epoch_cap'],
    ['last epoch is a commit epoch below the target: the target wins', { epoch: 49, committed: true }, 'target_reached'],
    ['one before the cap', { epoch: 48, committed: true, sizeNow: 900 }, null],
    ['nothing pruned yet', { epoch: 0, committed: false, sizeNow: 1000 }, null],
    ['cap of 1 epoch stops after epoch 0', { epoch: 0, committed: false, sizeNow: 1000, maxEpochs: 1 }, 'epoch_cap'],
  ])('%s', (_name, patch, reason) => {
    expect(stopReason({ ...base, ...patch })).toBe(reason);
  });
});
