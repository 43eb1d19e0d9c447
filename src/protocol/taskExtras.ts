/**
 * Every key a fit task's `extra` may carry, spelled once: the coordinator's strategies and modes write them,
 * the client's trainer, fit chain and modes read them. Values are flat numbers, strings or booleans (they travel as
 * JSON and are signed with the task).
 */
export const TASK_EXTRAS = {
  /** The round's L2 clip norm C: central DP in plain mode, a fixed C under CKKS's distributed DP. */
  clipNorm: 'clipNorm',
  /** FedProx's mu, the weight of the proximal term. */
  proximalMu: 'proximalMu',
  /** A SCAFFOLD task: it downloads [x; c] and uploads [delta_y; delta_c]. */
  scaffold: 'scaffold',
  /** CKKS: this client's weight in the sum (its share of the cohort's examples, 1/m under DP). */
  ckksWeight: 'ckksWeight',
  /** CKKS: m, the clients the round's task went to (their noise shares add up to the multiplier). */
  ckksCohortSize: 'ckksCohortSize',
  /** CKKS: the strategy's linear step, applied by the clients. */
  ckksServerLearningRate: 'ckksServerLearningRate',
  ckksServerMomentum: 'ckksServerMomentum',
  /** Distributed DP: each client's noise share, as a multiple of C. */
  dpNoiseShare: 'dpNoiseShare',
  /** Adaptive clipping under CKKS (Andrew et al. 2021): C_0, the target quantile, the step, the count's noise share. */
  clipInitialNorm: 'clipInitialNorm',
  clipTargetQuantile: 'clipTargetQuantile',
  clipLearningRate: 'clipLearningRate',
  clipCountNoiseShare: 'clipCountNoiseShare',
  /** SecAgg+: this client's weight in the masked sum (its share of the cohort's examples). */
  secaggWeight: 'secaggWeight',
  /** SecAgg+: the clients whose encodings the sum may hold (the quantization's headroom). */
  secaggCohortSize: 'secaggCohortSize',
  /** SecAgg+: the magnitude beyond which a weighted value is clipped before quantization. */
  secaggClippingRange: 'secaggClippingRange',
  /** SecAgg+: bits of the ring Z_(2^bits) the encodings live in. */
  secaggBits: 'secaggBits',
  /** Plain mode: the upload's compression, `int8` or `topk` (protocol/compression.ts). */
  compression: 'compression',
  /** Top-k: the share of values kept. */
  compressionFraction: 'compressionFraction',
  /** Int8: the levels are deflated (lossless; node:zlib's raw DEFLATE). */
  compressionDeflate: 'compressionDeflate',
  /** The seed of int8's stochastic rounding (from the run seed: the same seed gives the same uploads). */
  compressionSeed: 'compressionSeed',
} as const;

export type TaskExtraKey = (typeof TASK_EXTRAS)[keyof typeof TASK_EXTRAS];

/** A number the task carries under `key`, or undefined (a value of another type is undefined too). */
export function numberExtra(extra: Readonly<Record<string, unknown>> | undefined, key: TaskExtraKey): number | undefined {
  const v = extra?.[key];
  return typeof v === 'number' ? v : undefined;
}
