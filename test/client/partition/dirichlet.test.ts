import { describe, expect, it } from 'vitest';
import { dirichletPartition, iidPartition, labelHistogram, meanLabelSkew, PartitionError } from '../../../src/client/partition/index.js';
import { balancedLabels, coversEachRowOnce } from './fixtures.js';

const labels = balancedLabels(10, 1_000);
const skew = (alpha: number, seed: number) => meanLabelSkew(labelHistogram(labels, dirichletPartition(labels, { clients: 10, alpha, seed }), 10));

describe('dirichletPartition', () => {
  it('is skewed for small alpha and close to IID for large alpha (mean total-variation distance to the global mix)', () => {
    const iid = meanLabelSkew(labelHistogram(labels, iidPartition(labels.length, { clients: 10, seed: 1 }), 10));
    // Measured (10 clients, 10 balanced classes of 1,000): alpha 0.1 -> 0.71-0.75, alpha 1 -> 0.34-0.40,
    // alpha 100 -> 0.036, IID -> 0.035.
    for (const seed of [1, 2, 3]) {
      expect(skew(0.1, seed)).toBeGreaterThan(0.55);
      expect(skew(1, seed)).toBeGreaterThan(0.2);
      expect(skew(1, seed)).toBeLessThan(skew(0.1, seed));
      expect(skew(100, seed)).toBeLessThan(0.06);
    }
    expect(iid).toBeLessThan(0.06);
  });

  it('gives every client at least minSize rows, resampling when a draw falls short', () => {
    const small = balancedLabels(10, 100);
    const options = { clients: 10, alpha: 0.5, minSize: 50 };
    let resampled = 0;
    for (let seed = 0; seed < 12; seed++) {
      const parts = dirichletPartition(small, { ...options, seed });
      expect(coversEachRowOnce(parts, small.length)).toBe(true);
      expect(Math.min(...parts.map((p) => p.length))).toBeGreaterThanOrEqual(50);
      try {
        dirichletPartition(small, { ...options, seed, maxAttempts: 1 });
      } catch (e) {
        expect(e).toBeInstanceOf(PartitionError);
        resampled++;
      }
    }
    // For these seeds the first draw alone leaves some client short about half of the time.
    expect(resampled).toBeGreaterThan(2);
  });

  it('gives up after maxAttempts with an error that says what was reached', () => {
    // alpha 0.001 sends almost every class whole to one client: 10 classes rarely cover all 10 clients.
    const small = balancedLabels(10, 100);
    expect(() => dirichletPartition(small, { clients: 10, alpha: 0.001, minSize: 50, selfBalancing: false, seed: 1 })).toThrow(
      /after 11 attempts some client still had \d+ row\(s\), fewer than minSize 50/,
    );
    expect(() => dirichletPartition(small, { clients: 10, alpha: 0.001, minSize: 50, selfBalancing: false, seed: 1, maxAttempts: 3 })).toThrow(PartitionError);
  });

  it('keeps working for tiny alpha (log-space gamma draws: no 0/0 proportions)', () => {
    const parts = dirichletPartition(labels, { clients: 10, alpha: 1e-4, minSize: 0, seed: 3 });
    expect(coversEachRowOnce(parts, labels.length)).toBe(true);
    // Each class lands (almost) entirely on one client.
    const histogram = labelHistogram(labels, parts, 10);
    for (let k = 0; k < 10; k++) expect(Math.max(...histogram.map((counts) => counts[k]!))).toBeGreaterThan(990);
  });

  it('refuses impossible or invalid configurations before sampling', () => {
    const small = balancedLabels(2, 5);
    expect(() => dirichletPartition(small, { clients: 11, alpha: 1, seed: 1, minSize: 0 })).toThrow(/only 10 rows/);
    expect(() => dirichletPartition(small, { clients: 2, alpha: 0, seed: 1 })).toThrow(/alpha must be positive/);
    expect(() => dirichletPartition(small, { clients: 2, alpha: -1, seed: 1 })).toThrow(RangeError);
    expect(() => dirichletPartition(small, { clients: 2, alpha: Number.NaN, seed: 1 })).toThrow(RangeError);
    expect(() => dirichletPartition(small, { clients: 3, alpha: 1, seed: 1, minSize: 4 })).toThrow(/3 clients x minSize 4 = 12 rows/);
    expect(() => dirichletPartition(Float32Array.of(0, 1, 0.5), { clients: 2, alpha: 1, seed: 1, minSize: 0 })).toThrow(/class index/);
    expect(() => dirichletPartition(small, { clients: 2, alpha: 1, seed: 1, minSize: 0, maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});
