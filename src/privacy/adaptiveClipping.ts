/**
 * Adaptive clipping for client-level DP-FedAvg (Andrew, Thakkar, McMahan and Ramaswamy 2021, "Differentially
 * Private Learning with Adaptive Clipping", NeurIPS; arXiv:1905.03871), the maths apart from the aggregator:
 *
 * - Each round every client's update is clipped to the current C and the server also releases
 *   b̄ = (sum_i b_i + N(0, sigma_b^2)) / n, the noised fraction of updates whose L2 norm was at most C.
 * - Geometric update (their Algorithm 1, "geometric"): C <- C exp(-eta_C (b̄ - gamma)). When more than a
 *   fraction gamma of the updates fit under C, C shrinks, otherwise it grows; C tracks the gamma-quantile of
 *   the update norms. Multiplicative steps keep C > 0 and move it at the same relative speed at every scale.
 * - Theorem 1: releasing the update sum with noise multiplier z_delta and the count with noise sigma_b (the count of
 *   b_i - 1/2 has sensitivity 1/2) costs exactly as much privacy as one Gaussian mechanism with multiplier
 *   z = (z_delta^-2 + (2 sigma_b)^-2)^(-1/2). So for the z the accountant composes,
 *   z_delta = (z^-2 - (2 sigma_b)^-2)^(-1/2), which exists only when sigma_b > z / 2.
 *
 * Units: C and the update norms are L2 norms of a whole model update; sigma_b is in clients (a count);
 * gamma and b̄ are fractions.
 */

/** Adaptive clipping's parameters: what `clipNorm: number | AdaptiveClipping` takes in place of a fixed C. */
export interface AdaptiveClipping {
  /** C_0: the clip norm of the first round. The paper starts at 0.1 and lets C find its scale. */
  readonly initialClipNorm: number;
  /** gamma in [0, 1]: the fraction of client updates C should leave unclipped (the paper's default 0.5). */
  readonly targetQuantile: number;
  /** eta_C > 0: the geometric step size (the paper's default 0.2). */
  readonly learningRate?: number;
  /**
   * sigma_b >= 0: standard deviation of the Gaussian noise on the count of unclipped updates. The paper takes
   * the expected number of clients per round / 20. It must exceed z / 2 when z > 0 (Theorem 1).
   */
  readonly countNoiseStd: number;
}

export const DEFAULT_CLIP_LEARNING_RATE = 0.2;

/** Throws, saying what is wrong, when the parameters cannot work. */
export function checkAdaptiveClipping(a: AdaptiveClipping): void {
  if (!(a.initialClipNorm > 0 && Number.isFinite(a.initialClipNorm))) throw new RangeError(`initialClipNorm must be positive and finite, got ${a.initialClipNorm}`);
  if (!(a.targetQuantile >= 0 && a.targetQuantile <= 1)) throw new RangeError(`targetQuantile must be within [0, 1], got ${a.targetQuantile}`);
  const eta = a.learningRate ?? DEFAULT_CLIP_LEARNING_RATE;
  if (!(eta > 0 && Number.isFinite(eta))) throw new RangeError(`the clip learningRate must be positive and finite, got ${eta}`);
  if (!(a.countNoiseStd >= 0 && Number.isFinite(a.countNoiseStd))) throw new RangeError(`countNoiseStd must be >= 0 and finite, got ${a.countNoiseStd}`);
}

/**
 * z_delta, the noise multiplier left for the update sum once the count takes its share (Theorem 1). z = 0 (no
 * privacy, tests) gives 0. Throws when sigma_b <= z / 2: the count alone would then spend the whole budget.
 */
export function updateNoiseMultiplier(noiseMultiplier: number, countNoiseStd: number): number {
  if (!(noiseMultiplier >= 0 && Number.isFinite(noiseMultiplier))) throw new RangeError(`noiseMultiplier must be >= 0 and finite, got ${noiseMultiplier}`);
  if (noiseMultiplier === 0) return 0;
  const rest = noiseMultiplier ** -2 - (2 * countNoiseStd) ** -2;
  if (!(rest > 0)) {
    throw new RangeError(
      `adaptive clipping: countNoiseStd ${countNoiseStd} must exceed noiseMultiplier / 2 = ${noiseMultiplier / 2} ` +
        '(Andrew et al. 2021, Theorem 1: z_delta = (z^-2 - (2 sigma_b)^-2)^(-1/2)); raise countNoiseStd or the noise multiplier',
    );
  }
  return 1 / Math.sqrt(rest);
}

/** The geometric update: C exp(-eta (b̄ - gamma)). b̄ is the noised unclipped fraction (it may leave [0, 1]). */
export function nextClipNorm(clipNorm: number, unclippedFraction: number, targetQuantile: number, learningRate = DEFAULT_CLIP_LEARNING_RATE): number {
  return clipNorm * Math.exp(-learningRate * (unclippedFraction - targetQuantile));
}

/** The estimator's state, a plain JSON value for checkpoints: C, and the round whose count produced it (0: C_0). */
export interface AdaptiveClipState {
  /** C, the clip norm. */
  readonly clipNorm: number;
  /** The round whose count produced it (0: the initial C). */
  readonly afterRound: number;
}

/** Checks a stored state (from a checkpoint's JSON) and returns it frozen; throws saying what is wrong. */
export function parseAdaptiveClipState(value: unknown): AdaptiveClipState {
  if (typeof value !== 'object' || value === null) throw new TypeError('an adaptive clipping state must be an object { clipNorm, afterRound }');
  const { clipNorm, afterRound } = value as Record<string, unknown>;
  if (typeof clipNorm !== 'number' || !(clipNorm > 0 && Number.isFinite(clipNorm))) throw new RangeError(`adaptive clipping state: clipNorm must be a positive finite number, got ${String(clipNorm)}`);
  if (typeof afterRound !== 'number' || !(Number.isInteger(afterRound) && afterRound >= 0)) {
    throw new RangeError(`adaptive clipping state: afterRound must be a whole number >= 0, got ${String(afterRound)}`);
  }
  return Object.freeze({ clipNorm, afterRound });
}
