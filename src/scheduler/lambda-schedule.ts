// The adaptive λ of SPEC §3.3: starts at 0, δ grows ×c0² while few ops are pruned, λ halves when many
// are, and a cap freezes λ once the task loss drops below the weighted sparsity term.

export interface LambdaParams {
  lambda0: number;
  c0: number;
  /** pruning_n_thre1 */
  prune_threshold: number;
  max: number;
}

export interface LambdaState {
  lambda: number;
  delta: number;
  cap: number;
}

export interface CommitOutcome {
  /** Ops pruned by this commit. */
  pruned: number;
  /** Mean cross-entropy of the epoch. */
  meanCe: number;
  /** Mean λ·R_op of the epoch. */
  meanRegOp: number;
}

export function initialLambda(p: LambdaParams): LambdaState {
  return { lambda: 0, delta: p.lambda0, cap: p.max };
}

/**
 * λ after a commit epoch. `capRatio` is 1 in the stages and 0.5 in the final phase (`--max_flops_ratio`):
 * when CE < capRatio·λ·R_op the cap becomes the current λ, otherwise it is `max`.
 */
export function updateLambda(state: LambdaState, outcome: CommitOutcome, p: LambdaParams, capRatio = 1): LambdaState {
  const cap = outcome.meanCe < capRatio * outcome.meanRegOp ? state.lambda : p.max;
  let { lambda, delta } = state;
  if (outcome.pruned >= 4 * p.prune_threshold) {
    lambda = lambda / p.c0;
    delta = p.lambda0;
  } else if (outcome.pruned < 2 * p.prune_threshold && lambda < cap) {
    delta = delta * p.c0 * p.c0;
    lambda = lambda + delta;
  }
  return { lambda: Math.min(lambda, cap), delta, cap };
}
