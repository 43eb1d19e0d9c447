import { describe, expect, it } from 'vitest';
import { DpMean } from '../../src/coordinator/aggregation/dpMean.js';
import { StreamingMean } from '../../src/coordinator/aggregation/streamingMean.js';
import { clipFactor, clipToNorm, l2Norm } from '../../src/privacy/l2Clip.js';

async function aggregate(agg: DpMean, updates: { values: number[]; weight: number }[]) {
  agg.bind([{ name: 'w', shape: [updates[0]!.values.length] }]);
  const round = agg.begin(1);
  for (const [i, u] of updates.entries()) {
    const sink = await round.accept(`c${i}`, u.weight);
    sink.write(0, Float32Array.from(u.values));
    sink.commit();
  }
  return round.finish();
}

describe('L2 clipping', () => {
  it('scales an update above C down to norm C and leaves one within C alone', () => {
    const big = [{ name: 'a', shape: [2], data: Float32Array.of(3, 4) }]; // norm 5
    const clipped = clipToNorm(big, 1);
    expect(clipped).toMatchObject({ norm: 5, clipped: true });
    expect(Array.from(clipped.weights[0]!.data)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(clipToNorm(big, 10)).toMatchObject({ clipped: false, weights: big });
    expect(clipFactor(0, 1)).toBe(1); // a zero update is never divided by its norm
    expect(() => clipFactor(1, 0)).toThrow(/clip norm must be positive/);
    expect(l2Norm([{ name: 'a', shape: [1], data: Float32Array.of(-2) }, { name: 'b', shape: [0], data: new Float32Array(0) }])).toBe(2);
  });
});

describe('DpMean', () => {
  it('clips each update on the coordinator, weights clients equally, and counts the clipped ones', async () => {
    const agg = new DpMean(new StreamingMean(), { clipNorm: 1, noiseMultiplier: 0 });
    // norms: 5 (clipped to (0.6, 0.8)), 0.5 (kept); example counts are ignored.
    const result = await aggregate(agg, [
      { values: [3, 4], weight: 1000 },
      { values: [0.3, 0.4], weight: 1 },
    ]);
    expect(result.totalWeight).toBe(2);
    expect(result.mean![0]).toBeCloseTo((0.6 + 0.3) / 2, 6);
    expect(result.mean![1]).toBeCloseTo((0.8 + 0.4) / 2, 6);
    expect(agg.measurements).toEqual({ clipped: 1, contributors: 2, noiseStd: 0 });
    expect(agg.name).toBe('dp(clip(mean))');
  });

  it('adds Gaussian noise of standard deviation zC/n to the mean', async () => {
    const n = 4;
    const size = 50_000;
    const agg = new DpMean(new StreamingMean(), { clipNorm: 2, noiseMultiplier: 1.5 });
    const result = await aggregate(agg, Array.from({ length: n }, () => ({ values: new Array<number>(size).fill(0), weight: 1 })));
    const mean = result.mean!;
    let s = 0;
    let ss = 0;
    for (const v of mean) {
      s += v;
      ss += v * v;
    }
    const expectedStd = (1.5 * 2) / n;
    const std = Math.sqrt(ss / size - (s / size) ** 2);
    // With 50,000 samples the sample std is within 2% of the truth with overwhelming probability (> 6 sigma).
    expect(Math.abs(std / expectedStd - 1)).toBeLessThan(0.02);
    expect(Math.abs(s / size)).toBeLessThan((6 * expectedStd) / Math.sqrt(size));
    expect(agg.measurements?.noiseStd).toBe(3);
  });

  it('refuses parameters that cannot work', () => {
    expect(() => new DpMean(new StreamingMean(), { clipNorm: 0, noiseMultiplier: 1 })).toThrow(/clipNorm must be positive/);
    expect(() => new DpMean(new StreamingMean(), { clipNorm: 1, noiseMultiplier: -1 })).toThrow(/noiseMultiplier must be >= 0/);
  });
});
