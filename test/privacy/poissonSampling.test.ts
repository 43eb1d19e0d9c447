import { describe, expect, it } from 'vitest';
import { poissonSubsample } from '../../src/privacy/poissonSampling.js';

describe('poissonSubsample', () => {
  it('draws each record independently with probability q: Binomial batch sizes, every record equally often', () => {
    const n = 50;
    const q = 0.1;
    const draws = 4000;
    const counts = new Array<number>(n).fill(0);
    let sum = 0;
    let squares = 0;
    for (let d = 0; d < draws; d++) {
      const rows = poissonSubsample(n, q);
      for (let i = 1; i < rows.length; i++) expect(rows[i]!).toBeGreaterThan(rows[i - 1]!);
      rows.forEach((r) => counts[r]!++);
      sum += rows.length;
      squares += rows.length ** 2;
    }
    const mean = sum / draws;
    const variance = squares / draws - mean * mean;
    // Binomial(50, 0.1): mean 5 (standard error 0.024), variance 4.5 (standard error about 0.11).
    expect(Math.abs(mean - n * q)).toBeLessThan(0.15);
    expect(Math.abs(variance - n * q * (1 - q))).toBeLessThan(0.7);
    // Each record joins about 400 times (sd 19): none is favoured.
    for (const c of counts) expect(Math.abs(c - draws * q)).toBeLessThan(6 * Math.sqrt(draws * q * (1 - q)));
    // Empty batches happen (0.9^50 = 0.5%) and must be allowed.
    expect(poissonSubsample(3, 0)).toEqual([]);
    expect(poissonSubsample(3, 1)).toEqual([0, 1, 2]);
    expect(poissonSubsample(0, 0.5)).toEqual([]);
  });

  it('refuses rates outside [0, 1] and non-integer counts', () => {
    expect(() => poissonSubsample(10, 1.5)).toThrow(/sampling rate q must be in \[0, 1\]/);
    expect(() => poissonSubsample(2.5, 0.1)).toThrow(/record count must be a whole number/);
  });
});
