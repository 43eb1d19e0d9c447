import { fillGaussian } from '../../privacy/gaussianNoise.js';
import { clipFactor } from '../../privacy/l2Clip.js';
import type { TensorSpec } from '../../protocol/tensors.js';
import type { AggregateResult, AggregationRound, Aggregator, UpdateSink } from './aggregator.js';

export interface DpGaussianMeanOptions {
  /** C: every update is clipped to this L2 norm before it counts. */
  readonly clipNorm: number;
  /** z: the noise added to the sum has standard deviation z * C. */
  readonly noiseMultiplier: number;
}

/** Per-round measurements of the DP wrapper, nested in the round's record. */
export interface DpMeasurements {
  readonly clipped: number;
  readonly contributors: number;
  readonly noiseStd: number;
}

/**
 * Client-level DP-FedAvg's server side (McMahan et al. 2018, "Learning Differentially Private Recurrent
 * Language Models", Algorithm 1, with the fixed-denominator mean replaced by the contributor count), as a
 * wrapper: each update counts with weight 1 (example counts would scale the sensitivity), is clipped to L2
 * norm C as it is committed, and the sum gets Gaussian noise N(0, (zC)^2) per coordinate, drawn from
 * node:crypto, before dividing. The inner aggregator does the summing.
 */
export class DpGaussianMean implements Aggregator {
  readonly name: string;
  private lastMeasurements: DpMeasurements | undefined;

  constructor(
    private readonly inner: Aggregator,
    private readonly options: DpGaussianMeanOptions,
  ) {
    if (!(options.clipNorm > 0) || !Number.isFinite(options.clipNorm)) throw new RangeError(`clipNorm must be positive and finite, got ${options.clipNorm}`);
    if (!(options.noiseMultiplier >= 0) || !Number.isFinite(options.noiseMultiplier)) throw new RangeError(`noiseMultiplier must be >= 0, got ${options.noiseMultiplier}`);
    this.name = `dp(clip(${inner.name}))`;
  }

  /** What the last finished round clipped and added. */
  get measurements(): DpMeasurements | undefined {
    return this.lastMeasurements;
  }

  bind(spec: readonly TensorSpec[]): void {
    this.inner.bind(spec);
  }

  begin(round: number): AggregationRound {
    const innerRound = this.inner.begin(round);
    const { clipNorm, noiseMultiplier } = this.options;
    let clipped = 0;
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
            const factor = clipFactor(Math.sqrt(squares) * scale, clipNorm);
            sink.commit(scale * factor);
            if (factor < 1) clipped++;
          },
          abort: (reason) => sink.abort(reason),
        };
        return wrapped;
      },
      finish: (): AggregateResult => {
        const result = innerRound.finish();
        const n = result.contributors.length;
        const noiseStd = noiseMultiplier * clipNorm;
        this.lastMeasurements = { clipped, contributors: n, noiseStd };
        if (!result.mean || n === 0 || noiseStd === 0) return result;
        // mean = (sum + N(0, (zC)^2)) / n = inner mean + N(0, (zC / n)^2)
        const noise = fillGaussian(new Float32Array(result.mean.length), noiseStd / n);
        const mean = result.mean.map((v, i) => v + noise[i]!);
        return { ...result, mean };
      },
    };
  }
}
