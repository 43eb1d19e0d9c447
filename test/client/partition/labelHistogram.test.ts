import { describe, expect, it } from 'vitest';
import { takeRows } from '../../../src/client/data/tabular.js';
import { describeLabelCounts, labelHistogram, labelSkew, meanLabelSkew, splitTable } from '../../../src/client/partition/index.js';

const labels = Float32Array.of(0, 0, 1, 1, 2, 2, 0, 1);

describe('labelHistogram', () => {
  it('counts each class per client', () => {
    expect(labelHistogram(labels, [[0, 1, 6], [2, 3, 4], [5, 7], []], 3)).toEqual([
      [3, 0, 0],
      [0, 2, 1],
      [0, 1, 1],
      [0, 0, 0],
    ]);
  });

  it('refuses labels outside the classes and rows outside the data', () => {
    expect(() => labelHistogram(labels, [[4]], 2)).toThrow(/label 2, not a class index in 0..1/);
    expect(() => labelHistogram(labels, [[8]], 3)).toThrow(/row 8, outside 0..7/);
    expect(() => labelHistogram(labels, [[0]], 0)).toThrow(/numClasses/);
  });
});

describe('labelSkew', () => {
  it('is 0 for the global mix, 1 - p_k for a single-class client, NaN for an empty client', () => {
    const skews = labelSkew([
      [1, 1],
      [3, 0],
      [0, 0],
      [0, 3],
    ]);
    // Global mix: 4 of class 0 and 4 of class 1.
    expect(skews[0]).toBe(0);
    expect(skews[1]).toBeCloseTo(0.5, 12);
    expect(skews[2]).toBeNaN();
    expect(skews[3]).toBeCloseTo(0.5, 12);
    expect(meanLabelSkew([[1, 1], [3, 0], [0, 0], [0, 3]])).toBeCloseTo(1 / 3, 12);
  });
});

describe('describeLabelCounts', () => {
  it('prints the row count and the classes held', () => {
    expect(describeLabelCounts([40, 0, 13, 0])).toBe('53 rows; 2 of 4 labels 0:40 2:13');
  });
});

describe('splitTable', () => {
  it('gives each client a copy of its rows', () => {
    const data = { x: Float32Array.from({ length: 16 }, (_, i) => i), y: labels, rows: 8, featureNames: ['a', 'b'] };
    const [a, b] = splitTable(data, [[7, 0], [3]]);
    expect(a).toEqual(takeRows(data, [7, 0]));
    expect(Array.from(a!.x)).toEqual([14, 15, 0, 1]);
    expect(Array.from(b!.y)).toEqual([1]);
  });
});
