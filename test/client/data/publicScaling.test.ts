import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/client/data/errors.js';
import { loadCsvData } from '../../../src/client/data/loadCsvData.js';
import { parseCsvDataConfig } from '../../../src/client/data/csvDataConfig.js';
import { applyPublicScaling, describeClipped } from '../../../src/client/data/publicScaling.js';
import type { TabularData } from '../../../src/client/data/tabular.js';
import { csvFixtureDir } from './csvFixture.js';

function table(rows: number[][], featureNames = ['age', 'chol']): TabularData {
  return { x: Float32Array.from(rows.flat()), y: new Float32Array(rows.length), rows: rows.length, featureNames };
}

const fx = csvFixtureDir();
afterAll(() => fx.remove());

describe('feature scaling from public ranges', () => {
  const features = { age: { min: 20, max: 80 }, chol: { mean: 200, scale: 50 } };

  it('maps a range onto [-1, 1] and a mean and scale to (x - mean) / scale, with no statistic of the rows', () => {
    const train = table([[20, 200], [50, 300], [80, 150]]);
    const out = applyPublicScaling({ train, test: table([[35, 250]]) }, { features });
    expect([...out.train.x]).toEqual([-1, 0, 0, 2, 1, -1]);
    expect([...out.test.x]).toEqual([-0.5, 1]);
    expect(out.report.clipped).toEqual({});
    // Another site's rows give the same map: nothing was fitted on them.
    const other = applyPublicScaling({ train: table([[50, 200], [50, 200]]), test: table([[50, 200]]) }, { features });
    expect([...other.test.x]).toEqual([0, 0]);
    expect([...train.x]).toEqual([20, 200, 50, 300, 80, 150]); // the input is left untouched
  });

  it('clips a value outside its range to it and counts it, by default (a mean and scale has no range to leave)', () => {
    const out = applyPublicScaling({ train: table([[10, 900], [95, 200]]), test: table([[81, -400]]) }, { features });
    expect([...out.train.x]).toEqual([-1, 14, 1, 0]);
    expect([...out.test.x]).toEqual([1, -12]);
    expect(out.report.clipped).toEqual({ age: 3 });
    expect(describeClipped(out.report)).toBe('age 3');
    expect(describeClipped({ clipped: {} })).toBeUndefined();
  });

  it('refuses a value outside its range with outOfRange: refuse, naming the feature, the row, the range and the fixes', () => {
    const data = { train: table([[30, 200], [81, 200]]), test: table([[30, 200]]) };
    expect(() => applyPublicScaling(data, { features, outOfRange: 'refuse' })).toThrow(
      /^age = 81 \(training row 2\) is outside its public range \[20, 80\]: widen the range in publicScaling\.features, fix the value, or set publicScaling\.outOfRange: clip$/,
    );
    expect(() => applyPublicScaling({ ...data, train: table([[30, 200]]) }, { features, outOfRange: 'refuse' })).not.toThrow();
  });

  it('refuses a feature without a range (naming every one) and a range for a feature the data lacks', () => {
    const data = { train: table([[30, 200, 1, 0]], ['age', 'chol', 'sex', 'fbs']), test: table([[30, 200, 1, 0]], ['age', 'chol', 'sex', 'fbs']) };
    expect(() => applyPublicScaling(data, { features })).toThrow(DataError);
    expect(() => applyPublicScaling(data, { features })).toThrow(/^publicScaling\.features has no public range for sex, fbs: give each feature \{ min, max \} or \{ mean, scale \}/);
    expect(() => applyPublicScaling(data, { features: { ...features, sex: { min: 0, max: 1 }, fbs: { min: 0, max: 1 }, bmi: { min: 10, max: 60 } } })).toThrow(
      /^publicScaling\.features names bmi, which the data does not have \(its features: age, chol, sex, fbs\)$/,
    );
  });

  it('refuses an empty or inverted range and a scale of zero', () => {
    const data = { train: table([[30, 200]]), test: table([[30, 200]]) };
    expect(() => applyPublicScaling(data, { features: { ...features, age: { min: 80, max: 80 } } })).toThrow(/invalid publicScaling:[\s\S]*max must be greater than min/);
    expect(() => applyPublicScaling(data, { features: { ...features, chol: { mean: 200, scale: 0 } } })).toThrow(/invalid publicScaling:[\s\S]*scale must be positive/);
  });
});

describe('publicScaling in a client data config', () => {
  const csv = ['age,chol,y', ...Array.from({ length: 20 }, (_, i) => `${30 + i},${i === 3 ? 700 : 180 + i},${i % 2}`)].join('\n');

  it('scales the loaded rows, replaces the own-rows z-score (standardize defaults to off) and keeps the clip counts at the client', () => {
    fx.write('site.csv', csv);
    const publicScaling = { features: { age: { min: 20, max: 80 }, chol: { min: 100, max: 600 } } };
    const d = loadCsvData({ path: 'site.csv', label: 'y', publicScaling }, fx.dir);
    expect(d.meta.standardized).toBe(false);
    expect(d.meta.publicScaling).toEqual({ clipped: { chol: 1 } });
    const all = [...d.train.x, ...d.test.x];
    expect(Math.max(...all)).toBe(1); // chol 700 clipped to 600, i.e. 1
    expect(Math.min(...all)).toBeGreaterThanOrEqual(-1);
    const raw = loadCsvData({ path: 'site.csv', label: 'y', standardize: false }, fx.dir);
    expect(d.train.x[0]).toBeCloseTo((raw.train.x[0]! - 50) / 30, 6); // the same row, scaled from the range
    expect(parseCsvDataConfig({ path: 'x.csv', label: 'y' }).standardize).toBe(true);
  });

  it('refuses standardize: true next to publicScaling, and names the file when a range is missing', () => {
    expect(() => parseCsvDataConfig({ path: 'site.csv', label: 'y', standardize: true, publicScaling: { features: {} } })).toThrow(
      /publicScaling replaces the z-score from this client's own rows: drop standardize: true, or publicScaling\n +→ at standardize/,
    );
    fx.write('site.csv', csv);
    expect(() => loadCsvData({ path: 'site.csv', label: 'y', publicScaling: { features: { age: { min: 20, max: 80 } } } }, fx.dir)).toThrow(
      new RegExp(`^${fx.dir}/site\\.csv: publicScaling\\.features has no public range for chol`),
    );
  });
});
