import { describe, expect, it } from 'vitest';
import { splitIndices, testSizeFor, trainTestSplit } from '../../../src/client/data/split.js';
import type { TabularData } from '../../../src/client/data/tabular.js';

function labels(counts: Record<number, number>): number[] {
  return Object.entries(counts).flatMap(([label, n]) => new Array<number>(n).fill(Number(label)));
}
const count = (ys: readonly number[], idx: readonly number[], label: number): number =>
  idx.filter((i) => ys[i] === label).length;

describe('testSizeFor', () => {
  it('rounds up like scikit-learn (FLamby heart-disease sizes)', () => {
    expect([303, 261, 46, 130].map((n) => testSizeFor(n, 0.34))).toEqual([104, 89, 16, 45]);
    expect(testSizeFor(100, 0.25)).toBe(25);
  });
  it('refuses a split that leaves one side empty', () => {
    expect(() => testSizeFor(1, 0.5)).toThrow(/1 row\(s\).*0 training/);
    expect(() => testSizeFor(10, 0)).toThrow(/\(0, 1\)/);
  });
});

describe('splitIndices', () => {
  const ys = labels({ 0: 70, 1: 30 });
  const options = { testFraction: 0.25, stratify: true, seed: 42 };

  it('partitions the rows: disjoint, complete, sized ceil(f * n)', () => {
    const { train, test } = splitIndices(ys, options);
    expect(test).toHaveLength(25);
    expect(train).toHaveLength(75);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(ys.map((_, i) => i));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(splitIndices(ys, options)).toEqual(splitIndices(ys, options));
    expect(splitIndices(ys, options).test).not.toEqual(splitIndices(ys, { ...options, seed: 43 }).test);
    const plain = { ...options, stratify: false };
    expect(splitIndices(ys, plain)).toEqual(splitIndices(ys, plain));
    expect(splitIndices(ys, plain).test).not.toEqual(splitIndices(ys, { ...plain, seed: 43 }).test);
  });

  it('keeps class ratios when stratified, for every seed', () => {
    for (let seed = 0; seed < 20; seed++) {
      const { test, train, stratified } = splitIndices(ys, { ...options, seed });
      expect(stratified).toBe(true);
      // 25 test rows of a 70/30 table: 17.5 and 7.5, rounded to 18/7 or 17/8; never further.
      expect(Math.abs(count(ys, test, 1) - 7.5)).toBeLessThanOrEqual(0.5);
      expect(count(ys, train, 1) + count(ys, test, 1)).toBe(30);
    }
  });

  it('allocates a three-class test set in proportion', () => {
    const three = labels({ 0: 50, 1: 30, 2: 20 });
    const { test } = splitIndices(three, { testFraction: 0.3, stratify: true, seed: 5 });
    expect([0, 1, 2].map((c) => count(three, test, c))).toEqual([15, 9, 6]);
  });

  it('a plain random split drifts from the ratios for some seed (so the stratified test above can fail)', () => {
    const drift = Array.from({ length: 20 }, (_, seed) => {
      const { test } = splitIndices(ys, { ...options, stratify: false, seed });
      return Math.abs(count(ys, test, 1) - 7.5);
    });
    expect(Math.max(...drift)).toBeGreaterThan(0.5);
  });

  it('falls back to a plain split when a class has 2 rows or fewer (FLamby rule), or the label is not a class', () => {
    expect(splitIndices(labels({ 0: 2, 1: 44 }), options).stratified).toBe(false);
    expect(splitIndices(labels({ 0: 3, 1: 43 }), options).stratified).toBe(true);
    expect(splitIndices([0.5, 1.5, 2.5, 0.5, 1.5, 2.5, 0.5, 1.5, 2.5, 3], options).stratified).toBe(false);
    expect(splitIndices(ys, { ...options, stratify: false }).stratified).toBe(false);
  });
});

describe('trainTestSplit', () => {
  it('carries each row with its label', () => {
    const rows = 20;
    const data: TabularData = {
      x: Float32Array.from({ length: rows * 2 }, (_, i) => Math.floor(i / 2) * (i % 2 === 0 ? 1 : -1)),
      y: Float32Array.from({ length: rows }, (_, r) => r % 2),
      rows,
      featureNames: ['id', 'minus_id'],
    };
    const { train, test } = trainTestSplit(data, { testFraction: 0.25, stratify: true, seed: 1 });
    expect(train.rows + test.rows).toBe(rows);
    for (const part of [train, test]) {
      for (let r = 0; r < part.rows; r++) {
        const id = part.x[r * 2] as number;
        expect(part.x[r * 2 + 1]).toBe(-id);
        expect(part.y[r]).toBe(id % 2);
      }
    }
  });
});
