import { describe, expect, it } from 'vitest';
import type { AggregationRound, Aggregator, UpdateSink } from '../../src/coordinator/aggregation/aggregator.js';
import { withClipNorm } from '../../src/coordinator/aggregation/clipNormStrategy.js';
import { DpMean } from '../../src/coordinator/aggregation/dpMean.js';
import { StreamingMean } from '../../src/coordinator/aggregation/streamingMean.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import type { ClientSummary } from '../../src/coordinator/strategy.js';
import { nextClipNorm, parseAdaptiveClipState, updateNoiseMultiplier } from '../../src/privacy/adaptiveClipping.js';
import { clipToNorm } from '../../src/privacy/l2Clip.js';
import { createSeededRng } from '../../src/protocol/seededRng.js';
import { aggregatorContract } from '../coordinator/aggregatorContract.js';
import { modesFor } from '../../src/modes/index.js';

/** One round of `agg` over the given updates (flat vectors); returns the result. */
async function round(agg: Aggregator, r: number, updates: readonly (readonly number[])[]) {
  const run = agg.begin(r);
  for (const [i, u] of updates.entries()) {
    const sink = await run.accept(`c${i}`, 7);
    sink.write(0, Float32Array.from(u));
    sink.commit();
  }
  return run.finish();
}

const bound = (agg: DpMean, size: number) => {
  agg.bind([{ name: 'w', shape: [size] }]);
  return agg;
};

/** A vector of `size` values with L2 norm `norm`, all along the first axis. */
const ofNorm = (norm: number, size = 2) => [norm, ...new Array<number>(size - 1).fill(0)];

describe('adaptive clipping maths (Andrew et al. 2021)', () => {
  it('splits the noise multiplier as Theorem 1 says, and refuses a count that would spend the whole budget', () => {
    expect(updateNoiseMultiplier(1, 1)).toBeCloseTo(1 / Math.sqrt(0.75), 12); // (1 - 1/4)^(-1/2)
    const z = 0.9;
    const sigmaB = 2.5;
    const zDelta = updateNoiseMultiplier(z, sigmaB);
    expect((zDelta ** -2 + (2 * sigmaB) ** -2) ** -0.5).toBeCloseTo(z, 12); // the composition gives z back
    expect(zDelta).toBeGreaterThan(z);
    expect(updateNoiseMultiplier(0, 0)).toBe(0);
    expect(() => updateNoiseMultiplier(1, 0.5)).toThrow(/countNoiseStd 0.5 must exceed noiseMultiplier \/ 2 = 0.5/);
    expect(() => updateNoiseMultiplier(1, 0)).toThrow(/must exceed/);
  });

  it('updates C geometrically: C exp(-eta (b - gamma))', () => {
    expect(nextClipNorm(1, 1, 0.5, 0.2)).toBeCloseTo(Math.exp(-0.1), 15);
    expect(nextClipNorm(2, 0, 0.5, 0.2)).toBeCloseTo(2 * Math.exp(0.1), 15);
    expect(nextClipNorm(3, 0.5, 0.5)).toBe(3);
    expect(() => parseAdaptiveClipState({ clipNorm: -1, afterRound: 0 })).toThrow(/clipNorm must be a positive finite number/);
    expect(parseAdaptiveClipState({ clipNorm: 0.5, afterRound: 3 })).toEqual({ clipNorm: 0.5, afterRound: 3 });
  });
});

describe('DpMean with adaptive clipping', () => {
  const noNoise = { initialClipNorm: 1, targetQuantile: 0.25, learningRate: 0.2, countNoiseStd: 0 };

  it('clips to the current C, counts updates within C, and moves C for the next round (noise 0: hand values)', async () => {
    const agg = bound(new DpMean(new StreamingMean(), { clipNorm: noNoise, noiseMultiplier: 0 }), 2);
    expect(agg.name).toBe('dp(adaptive-clip(mean))');
    // Round 1, C = 1: norms 0.5 and 0.2 within, 2 and 3 clipped to 1; b = 2/4.
    const r1 = await round(agg, 1, [ofNorm(0.5), ofNorm(2), ofNorm(3), ofNorm(0.2)]);
    expect(r1.mean![0]).toBeCloseTo((0.5 + 1 + 1 + 0.2) / 4, 6);
    expect(r1.totalWeight).toBe(4); // every client weighs 1, whatever its example count
    const c2 = Math.exp(-0.2 * (0.5 - 0.25));
    expect(agg.measurements).toEqual({ clipped: 2, contributors: 4, noiseStd: 0, adaptive: { clipNorm: 1, nextClipNorm: c2, unclippedFraction: 0.5, updateNoiseMultiplier: 0 } });
    expect(agg.clipNormFor(2)).toBeCloseTo(c2, 15);
    expect(agg.clipNormFor(1)).toBe(1); // a retry of round 1 still clips to round 1's C
    expect(agg.state).toEqual({ clipNorm: c2, afterRound: 1 });
    // Round 2, C = exp(-0.05) = 0.9512: only 0.2 within; b = 1/4 = gamma, so C stays.
    const r2 = await round(agg, 2, [ofNorm(0.96), ofNorm(2), ofNorm(3), ofNorm(0.2)]);
    expect(r2.mean![0]).toBeCloseTo((3 * c2 + 0.2) / 4, 6);
    expect(agg.measurements?.adaptive).toMatchObject({ clipNorm: c2, unclippedFraction: 0.25 });
    expect(agg.clipNormFor(3)).toBeCloseTo(c2, 15);
    // Round 3: nothing within C; b = 0, so C grows by exp(0.2 * 0.25).
    await round(agg, 3, [ofNorm(5), ofNorm(5)]);
    expect(agg.clipNormFor(4)).toBeCloseTo(c2 * Math.exp(0.05), 15);
  });

  it('discards the count of a round that is retried: a failed attempt never moves C', async () => {
    const agg = bound(new DpMean(new StreamingMean(), { clipNorm: noNoise, noiseMultiplier: 0 }), 2);
    await round(agg, 1, [ofNorm(0.1), ofNorm(0.1)]); // b = 1: would shrink C
    expect(agg.clipNormFor(2)).toBeLessThan(1);
    await round(agg, 1, [ofNorm(5), ofNorm(5)]); // the retry clips to C = 1 again; b = 0 grows C
    expect(agg.measurements?.adaptive?.clipNorm).toBe(1);
    expect(agg.clipNormFor(2)).toBeCloseTo(Math.exp(0.05), 15);
    await round(agg, 2, []); // nobody contributed: nothing released, C kept
    expect(agg.clipNormFor(3)).toBeCloseTo(Math.exp(0.05), 15);
  });

  it('counts updates that a client already clipped to C as clipped, so client-side clipping cannot drive C to 0', async () => {
    const agg = bound(new DpMean(new StreamingMean(), { clipNorm: { ...noNoise, initialClipNorm: 0.3 }, noiseMultiplier: 0 }), 5);
    const preClipped = [3, -1, 2, 0.5, 7].map((v) => v * 1.37);
    const sent = clipToNorm([{ name: 'w', shape: [5], data: Float32Array.from(preClipped) }], 0.3).weights[0]!.data;
    await round(agg, 1, [Array.from(sent), Array.from(sent), ofNorm(0.1, 5)]);
    expect(agg.measurements?.adaptive?.unclippedFraction).toBeCloseTo(1 / 3, 12);
  });

  it('restores a checkpointed C, and refuses a damaged one', async () => {
    const agg = bound(new DpMean(new StreamingMean(), { clipNorm: noNoise, noiseMultiplier: 0 }), 2);
    await round(agg, 1, [ofNorm(9)]);
    const saved = JSON.parse(JSON.stringify(agg.state)) as unknown;
    const resumed = bound(new DpMean(new StreamingMean(), { clipNorm: noNoise, noiseMultiplier: 0 }), 2);
    resumed.restore(saved);
    expect(resumed.clipNormFor(2)).toBe(agg.clipNormFor(2));
    await round(resumed, 2, [ofNorm(9)]);
    expect(resumed.measurements?.adaptive?.clipNorm).toBe(agg.clipNormFor(2));
    expect(() => resumed.restore({ clipNorm: 'big', afterRound: 1 })).toThrow(/clipNorm must be a positive finite number/);
    const fixed = new DpMean(new StreamingMean(), { clipNorm: 1, noiseMultiplier: 0 });
    expect(fixed.state).toBeUndefined();
    expect(() => fixed.restore({ clipNorm: 1, afterRound: 0 })).toThrow(/fixed clip norm has no state/);
  });

  it('converges toward the target quantile of the update norms, with the count noised', async () => {
    // 100 clients a round, norms uniform in [0, 10]: the gamma-quantile is 10 gamma. sigma_b = 100 / 20 (the paper's).
    const rng = createSeededRng(7);
    for (const gamma of [0.2, 0.7]) {
      const agg = bound(new DpMean(new StreamingMean(), { clipNorm: { initialClipNorm: 0.1, targetQuantile: gamma, countNoiseStd: 5 }, noiseMultiplier: 1 }), 2);
      const late: number[] = [];
      for (let r = 1; r <= 250; r++) {
        await round(agg, r, Array.from({ length: 100 }, () => ofNorm(10 * rng.nextFloat())));
        if (r > 150) late.push(agg.clipNormFor(r + 1));
      }
      const average = late.reduce((s, c) => s + c, 0) / late.length;
      expect(Math.abs(average - 10 * gamma)).toBeLessThan(0.1 * 10 * gamma);
      // z = 1 split with sigma_b = 5: the sum's multiplier is (1 - 1/100)^(-1/2).
      expect(agg.measurements?.adaptive?.updateNoiseMultiplier).toBeCloseTo(1 / Math.sqrt(0.99), 12);
      expect(agg.measurements?.noiseStd).toBeCloseTo(agg.measurements!.adaptive!.clipNorm / Math.sqrt(0.99), 12);
    }
  });

  it('refuses parameters that cannot work', () => {
    expect(() => new DpMean(new StreamingMean(), { clipNorm: { ...noNoise, countNoiseStd: 0 }, noiseMultiplier: 1 })).toThrow(/must exceed noiseMultiplier \/ 2/);
    expect(() => new DpMean(new StreamingMean(), { clipNorm: { ...noNoise, targetQuantile: 1.5 }, noiseMultiplier: 0 })).toThrow(/targetQuantile must be within \[0, 1\]/);
    expect(() => new DpMean(new StreamingMean(), { clipNorm: { ...noNoise, initialClipNorm: 0 }, noiseMultiplier: 0 })).toThrow(/initialClipNorm must be positive/);
    expect(() => new DpMean(new StreamingMean(), { clipNorm: 0, noiseMultiplier: 1 })).toThrow(/clipNorm must be positive/);
    expect(() => new DpMean(new StreamingMean(), { clipNorm: 1, noiseMultiplier: -1 })).toThrow(/noiseMultiplier must be >= 0/);
  });
});

describe('DpMean with a fixed C', () => {
  it('clips each update, weights clients equally, and counts the clipped ones', async () => {
    const agg = bound(new DpMean(new StreamingMean(), { clipNorm: 1, noiseMultiplier: 0 }), 2);
    const result = await round(agg, 1, [[3, 4], [0.3, 0.4]]);
    expect(result.mean![0]).toBeCloseTo((0.6 + 0.3) / 2, 6);
    expect(result.mean![1]).toBeCloseTo((0.8 + 0.4) / 2, 6);
    expect(agg.measurements).toEqual({ clipped: 1, contributors: 2, noiseStd: 0 });
    expect(agg.name).toBe('dp(clip(mean))');
    expect(agg.clipNormFor(5)).toBe(1);
  });

  it('adds Gaussian noise of standard deviation zC/n to the mean', async () => {
    const size = 50_000;
    const agg = bound(new DpMean(new StreamingMean(), { clipNorm: 2, noiseMultiplier: 1.5 }), size);
    const result = await round(agg, 1, Array.from({ length: 4 }, () => new Array<number>(size).fill(0)));
    let s = 0;
    let ss = 0;
    for (const v of result.mean!) {
      s += v;
      ss += v * v;
    }
    const expected = (1.5 * 2) / 4;
    expect(Math.abs(Math.sqrt(ss / size - (s / size) ** 2) / expected - 1)).toBeLessThan(0.02);
    expect(agg.measurements?.noiseStd).toBe(3);
  });
});

/** The marker inner aggregator: records what the wrapper asks of it and returns a sum plus one. */
class MarkerSum implements Aggregator {
  readonly name = 'marker';
  readonly calls: string[] = [];
  bind(): void {
    this.calls.push('bind');
  }
  begin(r: number): AggregationRound {
    this.calls.push(`begin ${r}`);
    const sum = new Float32Array(2);
    const contributors: string[] = [];
    return {
      accept: async (client, weight) => {
        this.calls.push(`accept ${client} weight ${weight}`);
        const staged = new Float32Array(2);
        const sink: UpdateSink = {
          write: (offset, values) => staged.set(values, offset),
          commit: (scale = 1) => {
            this.calls.push(`commit ${client} scale ${scale.toFixed(4)}`);
            staged.forEach((v, i) => (sum[i]! += v * scale));
            contributors.push(client);
          },
          abort: (reason) => this.calls.push(`abort ${client} ${reason}`),
        };
        return sink;
      },
      finish: () => {
        this.calls.push(`finish ${r}`);
        return { mean: sum.map((v) => v + 1), totalWeight: contributors.length, contributors };
      },
    };
  }
}

describe('DpMean delegates to its inner aggregator', () => {
  it('passes weight 1, the clip factor as the commit scale, aborts and the round number, and returns the inner result', async () => {
    const inner = new MarkerSum();
    const agg = new DpMean(inner, { clipNorm: { initialClipNorm: 2, targetQuantile: 0.5, countNoiseStd: 0 }, noiseMultiplier: 0 });
    agg.bind([{ name: 'w', shape: [2] }]);
    const run = agg.begin(3);
    const a = await run.accept('a', 50);
    a.write(0, Float32Array.of(6, 8)); // norm 10: scale 0.2
    a.commit();
    const b = await run.accept('b', 50);
    b.write(0, Float32Array.of(1, 0));
    b.abort('gone');
    const result = run.finish();
    expect(inner.calls).toEqual(['bind', 'begin 3', 'accept a weight 1', 'commit a scale 0.2000', 'accept b weight 1', 'abort b gone', 'finish 3']);
    expect(Array.from(result.mean!)).toEqual([Math.fround(1.2) + 1, Math.fround(1.6) + 1].map(Math.fround));
    expect(agg.name).toBe('dp(adaptive-clip(marker))');
  });
});

const clients = (n: number): ClientSummary[] =>
  Array.from({ length: n }, (_, i) => ({ id: `id${i}`, name: `c${i}`, numTrainExamples: 10, numTestExamples: 5, backend: 'js' }));

describe('withClipNorm', () => {
  it('sends each round\'s C as extra.clipNorm, keeps the other extras, and checkpoints the estimator', async () => {
    const agg = new DpMean(new StreamingMean(), { clipNorm: { initialClipNorm: 1, targetQuantile: 0, learningRate: 0.5, countNoiseStd: 0 }, noiseMultiplier: 0 });
    const fit = { epochs: 1, batchSize: 4, learningRate: 0.1, extra: { mu: 0.01 } };
    const strategy = withClipNorm(new FedAvg({ minFitClients: 2, fit }), agg);
    expect(strategy.createAggregator()).toBe(agg);
    expect(modesFor(strategy.capabilities)).toEqual(['plain']);
    const tasks1 = strategy.configureFit(1, clients(2), createSeededRng(1));
    expect(tasks1.map((t) => t.instructions.extra)).toEqual([{ mu: 0.01, clipNorm: 1 }, { mu: 0.01, clipNorm: 1 }]);
    expect(fit.extra).toEqual({ mu: 0.01 }); // not mutated
    agg.bind([{ name: 'w', shape: [2] }]);
    await round(agg, 1, [ofNorm(0.1), ofNorm(0.1)]); // b = 1, gamma = 0: C shrinks by exp(-0.5)
    const tasks2 = strategy.configureFit(2, clients(2), createSeededRng(2));
    expect(tasks2[0]!.instructions.extra?.clipNorm).toBeCloseTo(Math.exp(-0.5), 15);
    const saved = JSON.parse(JSON.stringify(strategy.state!())) as unknown;
    expect(saved).toEqual({ clipping: { clipNorm: Math.exp(-0.5), afterRound: 1 } });
    const agg2 = new DpMean(new StreamingMean(), { clipNorm: { initialClipNorm: 1, targetQuantile: 0, learningRate: 0.5, countNoiseStd: 0 }, noiseMultiplier: 0 });
    const resumed = withClipNorm(new FedAvg({ minFitClients: 2, fit }), agg2);
    resumed.restore!(saved);
    expect(resumed.configureFit(2, clients(2), createSeededRng(2))[0]!.instructions.extra?.clipNorm).toBe(tasks2[0]!.instructions.extra?.clipNorm);
  });
});

// The shared contract, for both forms; equal weights replace the example counts, so the weighted-mean cases do not apply.
const weighted = 'DP weighs every client equally (example counts would scale the sensitivity), so the mean is not example-weighted';
const skip = { 'finish() gives the weighted mean of the committed updates from several clients': weighted, 'an aborted update leaves no trace in the mean': weighted };
aggregatorContract('DpMean (fixed C, no noise)', () => new DpMean(new StreamingMean(), { clipNorm: 1e9, noiseMultiplier: 0 }), { skip });
aggregatorContract(
  'DpMean (adaptive C, no noise)',
  () => new DpMean(new StreamingMean(), { clipNorm: { initialClipNorm: 1e9, targetQuantile: 0.5, countNoiseStd: 0 }, noiseMultiplier: 0 }),
  { skip },
);
