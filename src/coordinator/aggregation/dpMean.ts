import {
  checkAdaptiveClipping,
  DEFAULT_CLIP_LEARNING_RATE,
  nextClipNorm,
  parseAdaptiveClipState,
  updateNoiseMultiplier,
  type AdaptiveClipping,
  type AdaptiveClipState,
} from '../../privacy/adaptiveClipping.js';
import { addDiscreteGaussianNoise } from '../../privacy/gaussianNoise.js';
import { clipFactor } from '../../privacy/l2Clip.js';
import type { TensorSpec } from '../../protocol/tensors.js';
import type { AggregateResult, AggregationRound, Aggregator, UpdateSink } from './aggregator.js';

/** DpMean's clip norm and noise multiplier. */
export interface DpMeanOptions {
  /**
   * C, the L2 norm every update is clipped to: a fixed number, or adaptive clipping (Andrew et al. 2021), which
   * moves C each round toward a target quantile of the update norms. TFF-style: one parameter, not two classes.
   */
  readonly clipNorm: number | AdaptiveClipping;
  /**
   * z, the noise multiplier the accountant composes (the coordinator's `privacy.noiseMultiplier`). Fixed C: the
   * sum gets N(0, (zC)^2) per coordinate. Adaptive C: the sum gets multiplier z_delta = (z^-2 - (2 sigma_b)^-2)^(-1/2)
   * and the count the rest (Theorem 1), so the round still costs exactly one Gaussian mechanism at z.
   */
  readonly noiseMultiplier: number;
}

/** Per-round measurements, nested in the round's record. */
export interface DpMeasurements {
  /** Updates that were longer than C and scaled down. */
  readonly clipped: number;
  /** Updates in the round's sum. */
  readonly contributors: number;
  /** Standard deviation of the noise on the sum of updates (z C, or z_delta C): a norm per coordinate. */
  readonly noiseStd: number;
  /** Adaptive clipping only. */
  readonly adaptive?: {
    /** C this round clipped to. */
    readonly clipNorm: number;
    /** C for the next round. */
    readonly nextClipNorm: number;
    /** b̄: the noised fraction of updates whose norm was within C. */
    readonly unclippedFraction: number;
    /** z_delta: the share of z the update sum got. */
    readonly updateNoiseMultiplier: number;
  };
}

/**
 * Updates arriving with their norm at C within float32 rounding were clipped to C before they left their site
 * (clients clip to the `extra.clipNorm` they are sent), so they count as clipped, not as within C: otherwise a
 * client-side clip would make every b_i 1 and drive C to zero. A float32 copy of a vector scaled to norm C has
 * norm C (1 +- 6e-8); 1e-6 leaves a wide margin and moves b_i only for norms in [C (1 - 1e-6), C].
 */
export const PRE_CLIPPED_MARGIN = 1e-6;

/**
 * Client-level DP-FedAvg's server side (McMahan et al. 2018, "Learning Differentially Private Recurrent Language
 * Models", Algorithm 1, with the fixed-denominator mean replaced by the contributor count),
 * with fixed or adaptive clipping. A wrapper: each update counts with weight 1 (example counts would scale the
 * sensitivity), is clipped to C as it is committed, and the inner aggregator's mean gets N(0, (z C)^2 / n^2) per
 * coordinate from node:crypto (a discrete Gaussian on a fine grid, added to the float64 sum: privacy/gaussianNoise.ts).
 * Adaptive clipping also releases a noised count and updates C after the round.
 *
 * C across rounds: `clipNormFor(round)` is what the strategy sends clients as `extra.clipNorm`, and `state` what a
 * checkpoint keeps. A retried round (begin with the same round number again) discards the failed attempt's
 * count: its aggregate was never used, so its count must not move C either (the accountant charges nothing for it).
 */
export class DpMean implements Aggregator {
  readonly name: string;
  /** The noise this aggregator adds: what the coordinator checks a run's `privacy` multiplier against. */
  readonly dpNoise: { readonly noiseMultiplier: number };
  private readonly adaptive: AdaptiveClipping | undefined;
  /** The z_delta (adaptive) or z (fixed) the update sum gets. */
  private readonly sumNoiseMultiplier: number;
  /** C for rounds after `afterRound`, settled. */
  private committed: AdaptiveClipState;
  /** C proposed by a finished round, settled when a later round begins (discarded if that round is retried). */
  private pending: { readonly round: number; readonly clipNorm: number } | undefined;
  private lastMeasurements: DpMeasurements | undefined;

  constructor(
    private readonly inner: Aggregator,
    options: DpMeanOptions,
  ) {
    const z = options.noiseMultiplier;
    if (!(z >= 0) || !Number.isFinite(z)) throw new RangeError(`noiseMultiplier must be >= 0 and finite, got ${z}`);
    this.dpNoise = Object.freeze({ noiseMultiplier: z });
    if (typeof options.clipNorm === 'number') {
      const c = options.clipNorm;
      if (!(c > 0) || !Number.isFinite(c)) throw new RangeError(`clipNorm must be positive and finite, got ${c}`);
      this.adaptive = undefined;
      this.sumNoiseMultiplier = z;
      this.committed = { clipNorm: c, afterRound: 0 };
      this.name = `dp(clip(${inner.name}))`;
    } else {
      checkAdaptiveClipping(options.clipNorm);
      this.adaptive = options.clipNorm;
      this.sumNoiseMultiplier = updateNoiseMultiplier(z, options.clipNorm.countNoiseStd);
      this.committed = { clipNorm: options.clipNorm.initialClipNorm, afterRound: 0 };
      this.name = `dp(adaptive-clip(${inner.name}))`;
    }
  }

  /** What the last finished round clipped and added. */
  get measurements(): DpMeasurements | undefined {
    return this.lastMeasurements;
  }

  /** C that round `round` clips to: what clients should be sent as `extra.clipNorm`. Changes nothing. */
  clipNormFor(round: number): number {
    const p = this.pending;
    return p && p.round < round ? p.clipNorm : this.committed.clipNorm;
  }

  /**
   * Adaptive clipping's state after the last finished round (read it after a round that counted, as the
   * coordinator's checkpoint does); undefined for a fixed C, which has none.
   */
  get state(): AdaptiveClipState | undefined {
    if (!this.adaptive) return undefined;
    const p = this.pending;
    return p ? Object.freeze({ clipNorm: p.clipNorm, afterRound: p.round }) : this.committed;
  }

  /** Continues from a checkpointed `state` (a resumed run). A fixed C has no state: `undefined` is accepted. */
  restore(state: unknown): void {
    if (!this.adaptive) {
      if (state !== undefined) throw new TypeError('a fixed clip norm has no state to restore');
      return;
    }
    this.committed = parseAdaptiveClipState(state);
    this.pending = undefined;
  }

  bind(spec: readonly TensorSpec[]): void {
    // The noise goes on the float64 sum, whose error bound is far tighter than the float32 mean's.
    this.inner.bind(spec, { sum: true });
  }

  begin(round: number): AggregationRound {
    this.settle(round);
    const clipNorm = this.committed.clipNorm;
    const innerRound = this.inner.begin(round);
    let clipped = 0;
    let within = 0;
    return {
      accept: async (clientId) => {
        const sink = await innerRound.accept(clientId, 1);
        let squares = 0;
        const wrapped: UpdateSink = {
          write: (offset, values) => {
            for (let i = 0; i < values.length; i++) squares += values[i]! * values[i]!;
            sink.write(offset, values);
          },
          commit: (scale = 1) => {
            const norm = Math.sqrt(squares) * scale;
            const factor = clipFactor(norm, clipNorm);
            sink.commit(scale * factor);
            if (factor < 1) clipped++;
            if (norm <= clipNorm * (1 - PRE_CLIPPED_MARGIN)) within++;
          },
          abort: (reason) => sink.abort(reason),
        };
        return wrapped;
      },
      finish: (): AggregateResult => {
        const result = innerRound.finish();
        const n = result.contributors.length;
        const noiseStd = this.sumNoiseMultiplier * clipNorm;
        let adaptive: DpMeasurements['adaptive'];
        if (this.adaptive && n > 0) {
          const { targetQuantile, countNoiseStd, learningRate = DEFAULT_CLIP_LEARNING_RATE } = this.adaptive;
          // The count is a whole number (on every grid): the discrete Gaussian mechanism with sensitivity 1.
          const count = Float64Array.of(within);
          if (countNoiseStd > 0) addDiscreteGaussianNoise(count, { noiseMultiplier: countNoiseStd, sensitivity: 1 });
          const unclippedFraction = count[0]! / n;
          const next = nextClipNorm(clipNorm, unclippedFraction, targetQuantile, learningRate);
          this.pending = { round, clipNorm: next };
          adaptive = { clipNorm, nextClipNorm: next, unclippedFraction, updateNoiseMultiplier: this.sumNoiseMultiplier };
        }
        this.lastMeasurements = { clipped, contributors: n, noiseStd, ...(adaptive ? { adaptive } : {}) };
        if (!result.mean || n === 0 || noiseStd === 0) return result;
        // mean = (sum + noise) / n, the noise being the discrete Gaussian mechanism on the float64 sum
        // (privacy/gaussianNoise.ts): std z times the sum's sensitivity, computed below.
        const { values, sensitivity } = noisedQuery(result, clipNorm);
        addDiscreteGaussianNoise(values, { noiseMultiplier: this.sumNoiseMultiplier, sensitivity });
        const mean = new Float32Array(values.length);
        for (let i = 0; i < values.length; i++) mean[i] = values[i]! / n;
        const { sum: _sum, ...rest } = result;
        return { ...rest, mean };
      },
    };
  }

  /** A later round settles the last finished round's C; the same round again (a retry) discards it. */
  private settle(round: number): void {
    const p = this.pending;
    if (!p) return;
    if (p.round < round) this.committed = Object.freeze({ clipNorm: p.clipNorm, afterRound: p.round });
    this.pending = undefined;
  }
}

/**
 * The query the noise is added to, as the coordinator computed it, and its L2 sensitivity under adding or removing
 * one client: C for the exact sum of clipped updates, plus what floating point can add. Clipping scales by C / norm
 * with the norm summed in float64 (relative error below d 2^-53, so a clipped update's norm is within C (1 + d 2^-52));
 * the double-double sum rounded to float64 errs by at most 2^-53 |S_i| <= 2^-53 (n + 1) C per coordinate on either
 * neighbour; a fixed-point sum (result.sumGrid = g) adds at most g / 2 per update and coordinate, (n + 1) g / 2 on
 * either neighbour, before that float64 rounding. An inner aggregator without a float64 sum leaves n times its float32 mean, which errs by 2^-24 C per
 * coordinate of the mean (|mean_i| <= C), n times that on the sum. Public bounds: none depends on the data.
 * The run's adjacency is replace-one (the mean divides by the released count; privacyLedger.ts): two neighbours are
 * then at most twice this apart, which is why the ledger charges the multiplier halved.
 */
function noisedQuery(result: AggregateResult, clipNorm: number): { values: Float64Array; sensitivity: number } {
  const n = result.contributors.length;
  const d = result.mean!.length;
  const clipped = clipNorm * (1 + d * 2 ** -52);
  if (result.sum && result.sum.length === d) {
    const grid = result.sumGrid ?? 0;
    return { values: Float64Array.from(result.sum), sensitivity: clipped + 2 * Math.sqrt(d) * (n + 1) * (clipNorm * 2 ** -53 + grid / 2) };
  }
  const values = Float64Array.from(result.mean!, (v) => v * n);
  return { values, sensitivity: clipped + 2 * Math.sqrt(d) * (n + 1) * clipNorm * 2 ** -24 };
}
