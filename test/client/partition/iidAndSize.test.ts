import { describe, expect, it } from 'vitest';
import { iidPartition, powerLawPartition, sizePartition } from '../../../src/client/partition/index.js';
import { apportion } from '../../../src/client/partition/partition.js';
import { coversEachRowOnce } from './fixtures.js';

const sizes = (parts: number[][]) => parts.map((p) => p.length);

describe('iidPartition', () => {
  it('cuts a random permutation into sizes that differ by at most one', () => {
    const parts = iidPartition(103, { clients: 10, seed: 1 });
    expect(sizes(parts)).toEqual([11, 11, 11, 10, 10, 10, 10, 10, 10, 10]);
    expect(coversEachRowOnce(parts, 103)).toBe(true);
    // Random, not contiguous: the first client does not hold rows 0..10.
    expect(parts[0]).not.toEqual(Array.from({ length: 11 }, (_, i) => i));
  });

  it('refuses zero, fractional, or more clients than rows', () => {
    expect(() => iidPartition(5, { clients: 0, seed: 1 })).toThrow(/positive integer/);
    expect(() => iidPartition(5, { clients: 2.5, seed: 1 })).toThrow(/positive integer/);
    expect(() => iidPartition(5, { clients: 6, seed: 1 })).toThrow(/6 clients.*only 5 rows/);
  });
});

describe('sizePartition', () => {
  it('apportions the given fractions exactly, rows at random', () => {
    const parts = sizePartition(1000, { fractions: [0.6, 0.3, 0.1], seed: 3 });
    expect(sizes(parts)).toEqual([600, 300, 100]);
    expect(coversEachRowOnce(parts, 1000)).toBe(true);
    expect(sizes(sizePartition(10, { fractions: [1 / 3, 1 / 3, 1 / 3], seed: 3 }))).toEqual([4, 3, 3]);
  });

  it('refuses fractions that do not sum to 1, non-positive fractions, and clients left under minSize', () => {
    expect(() => sizePartition(100, { fractions: [0.5, 0.4], seed: 1 })).toThrow(/sum to 0.9/);
    expect(() => sizePartition(100, { fractions: [1.5, -0.5], seed: 1 })).toThrow(/must be positive/);
    expect(() => sizePartition(100, { fractions: [0.99, 0.01], seed: 1, minSize: 2 })).toThrow(/client 1's fraction 0.01 of 100 rows gives 1 row\(s\)/);
    expect(() => sizePartition(1, { fractions: [0.5, 0.5], seed: 1 })).toThrow(/only 1 rows/);
  });
});

describe('powerLawPartition', () => {
  it('falls as (i + 1)^-exponent above the guaranteed minimum', () => {
    const parts = powerLawPartition(1000, { clients: 4, exponent: 1, seed: 2, minSize: 10 });
    // 960 rows over weights 1, 1/2, 1/3, 1/4 (sum 25/12): 460.8, 230.4, 153.6, 115.2 -> 461, 230, 154, 115.
    expect(sizes(parts)).toEqual([471, 240, 164, 125]);
    expect(coversEachRowOnce(parts, 1000)).toBe(true);
    expect(sizes(powerLawPartition(12, { clients: 4, exponent: 0, seed: 2 }))).toEqual([3, 3, 3, 3]);
  });

  it('refuses a negative exponent and an impossible minimum', () => {
    expect(() => powerLawPartition(100, { clients: 4, exponent: -1, seed: 1 })).toThrow(/exponent/);
    expect(() => powerLawPartition(100, { clients: 4, exponent: 1, seed: 1, minSize: 26 })).toThrow(/4 clients x minSize 26 = 104 rows/);
  });
});

describe('apportion', () => {
  it('sums to the total exactly, largest remainders first, ties to the lower index', () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [0.5, 0.3, 0.2])).toEqual([4, 2, 1]);
    for (const total of [0, 1, 17, 9_999]) {
      const weights = [0.1, 0.2, 0.30000000000000004, 0.4, 1e-9];
      expect(apportion(total, weights).reduce((s, n) => s + n, 0)).toBe(total);
    }
  });
});
