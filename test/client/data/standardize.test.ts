import { describe, expect, it } from 'vitest';
import {
  applyStandardization,
  fitStandardization,
  standardizeTrainTest,
} from '../../../src/client/data/standardize.js';
import type { TabularData } from '../../../src/client/data/tabular.js';
import { columnStats } from './csvFixture.js';

function table(rows: number[][]): TabularData {
  const width = rows[0]?.length ?? 0;
  return {
    x: Float32Array.from(rows.flat()),
    y: new Float32Array(rows.length),
    rows: rows.length,
    featureNames: Array.from({ length: width }, (_, j) => `f${j}`),
  };
}

describe('standardization', () => {
  const train = table([[1, 10, 5], [2, 20, 5], [3, 30, 5], [4, 40, 5]]);
  const test = table([[5, 50, 5], [6, 60, 7]]);

  it('fits the mean and unbiased std (n - 1) on the rows it is given', () => {
    const s = fitStandardization(train);
    expect([...s.mean]).toEqual([2.5, 25, 5]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.std[1]).toBeCloseTo(10 * Math.sqrt(5 / 3), 10);
    expect(s.constant).toEqual([false, false, true]);
  });

  it('gives train mean 0 and std 1, and applies the train statistics to test', () => {
    const out = standardizeTrainTest({ train, test });
    const st = columnStats(out.train.x, 4, 3);
    expect(st.mean[0]).toBeCloseTo(0, 6);
    expect(st.std[0]).toBeCloseTo(1, 6);
    // Test rows use the train mean 2.5 and std sqrt(5/3): 5 -> 1.936..., not a test-fitted 0-mean value.
    const sd = Math.sqrt(5 / 3) + 1e-9;
    expect(out.test.x[0]).toBeCloseTo((5 - 2.5) / sd, 5);
    expect(out.test.x[3]).toBeCloseTo((6 - 2.5) / sd, 5);
    expect(columnStats(out.test.x, 2, 3).mean[0]).toBeGreaterThan(1);
  });

  it('maps a feature constant on train to 0 everywhere, even where test differs', () => {
    const out = standardizeTrainTest({ train, test });
    for (let r = 0; r < 4; r++) expect(out.train.x[r * 3 + 2]).toBe(0);
    expect(out.test.x[2]).toBe(0);
    expect(out.test.x[5]).toBe(0);
  });

  it('leaves its inputs untouched and keeps labels', () => {
    const before = Float32Array.from(train.x);
    const labelled = { ...train, y: Float32Array.from([1, 0, 1, 0]) };
    const out = applyStandardization(labelled, fitStandardization(labelled));
    expect(train.x).toEqual(before);
    expect([...out.y]).toEqual([1, 0, 1, 0]);
  });

  it('refuses a single training row and a width mismatch', () => {
    expect(() => fitStandardization(table([[1, 2]]))).toThrow(/at least 2/);
    expect(() => applyStandardization(table([[1, 2], [3, 4]]), fitStandardization(train))).toThrow(/3 features/);
  });
});
