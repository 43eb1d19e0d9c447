import { describe, expect, it } from 'vitest';
import { FedTrimmedAvg, coordinateTrimmedMean, trimmedCount } from '../../../src/coordinator/strategies/fedTrimmedAvg.js';
import { StrategyConfigError } from '../../../src/coordinator/strategies/fedAvg.js';
import { fit, flat, runRound, uploadsOf, weights } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

const f32 = (...rows: number[][]) => rows.map((r) => Float32Array.from(r));
const column = (...values: number[]) => values.map((v) => Float32Array.from([v]));

describe('FedTrimmedAvg (Yin et al. 2018, coordinate-wise trimmed mean)', () => {
  it('cuts floor(beta n) values from each end', () => {
    expect(trimmedCount(5, 0.2)).toBe(1);
    expect(trimmedCount(5, 0.1)).toBe(0); // 0.5 rounds down: nothing cut
    expect(trimmedCount(10, 0.25)).toBe(2);
    expect(trimmedCount(5, 0.49)).toBe(2);
  });

  it('averages what remains, per coordinate (hand computation)', () => {
    // n = 5, beta = 0.2: cut 1 from each end.
    // coordinate 0: {100, 1, 2, 3, 4} -> sorted 1, 2, 3, 4, 100 -> mean(2, 3, 4) = 3
    // coordinate 1: {-50, 0, 1, 1, 2} -> sorted -50, 0, 1, 1, 2 -> mean(0, 1, 1) = 2/3
    const rows = f32([100, -50], [1, 0], [2, 1], [3, 1], [4, 2]);
    const out = Array.from(coordinateTrimmedMean(rows, 0.2));
    expect(out[0]).toBe(3);
    expect(out[1]).toBeCloseTo(2 / 3, 7);
  });

  it('is the plain mean at beta = 0 and the median-like middle at beta just below 0.5', () => {
    // {1, 2, 3, 4, 100}: mean 22; beta 0.4 cuts 2 from each end -> 3
    expect(Array.from(coordinateTrimmedMean(column(1, 2, 3, 4, 100), 0))).toEqual([22]);
    expect(Array.from(coordinateTrimmedMean(column(1, 2, 3, 4, 100), 0.4))).toEqual([3]);
    // n = 4, beta 0.4: cut 1 from each end of {1, 2, 3, 100} -> mean(2, 3) = 2.5
    expect(Array.from(coordinateTrimmedMean(column(1, 2, 3, 100), 0.4))).toEqual([2.5]);
  });

  it('moves the model by the trimmed mean delta, unweighted', async () => {
    // beta 0.2 over {1, 2, 3, 4, 100} -> 3; global 10 -> 13 (the 100 claims 1000 examples: no effect)
    const s = new FedTrimmedAvg({ fit, beta: 0.2 });
    const uploads = uploadsOf([[1], [2], [3], [4]]).concat([{ client: 'z', weight: 1000, values: [100] }]);
    expect(flat((await runRound(s, weights([10]), uploads)).weights)).toEqual([13]);
  });

  it('defaults to beta 0.2, plain mode only', () => {
    const s = new FedTrimmedAvg({ fit });
    expect(s.beta).toBe(0.2);
    expect(s.name).toBe('fedtrimmedavg');
    expect(modesFor(s.capabilities)).toEqual(['plain']);
  });

  it('refuses beta outside [0, 0.5)', () => {
    for (const beta of [0.5, 0.7, -0.1, NaN]) {
      expect(() => new FedTrimmedAvg({ fit, beta })).toThrow(StrategyConfigError);
      expect(() => new FedTrimmedAvg({ fit, beta })).toThrow(`beta (the fraction trimmed from each end) must be within [0, 0.5), got ${beta}`);
      expect(() => coordinateTrimmedMean(column(1, 2), beta)).toThrow(/must be within \[0, 0.5\)/);
    }
  });
});
