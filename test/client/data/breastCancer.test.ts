import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCsvData } from '../../../src/client/data/loadCsvData.js';
import { labelCounts } from './csvFixture.js';

const dataDir = fileURLToPath(new URL('../../../examples/breast-cancer/data/', import.meta.url));
const hospitals = ['north', 'central', 'south'] as const;

describe('breast-cancer example data', () => {
  const load = (path: string) => loadCsvData({ path, label: 'target' }, dataDir);

  it('loads the pooled file: 569 rows, 30 features, 212 malignant', () => {
    const d = load('breast_cancer.csv');
    expect(d.meta.rowsKept).toBe(569);
    expect(d.meta.featureCount).toBe(30);
    expect(d.train.featureNames[0]).toBe('mean_radius');
    expect(d.train.featureNames[29]).toBe('worst_fractal_dimension');
    expect((labelCounts(d.train.y).get(1) ?? 0) + (labelCounts(d.test.y).get(1) ?? 0)).toBe(212);
  });

  it('loads each hospital with 30 features and the documented sizes and malignant counts', () => {
    const pooled = load('breast_cancer.csv').meta.schemaFingerprint;
    const seen = hospitals.map((h) => {
      const d = load(`hospitals/${h}.csv`);
      expect(d.meta.featureCount).toBe(30);
      expect(d.meta.schemaFingerprint).toBe(pooled);
      const malignant = [d.train, d.test].reduce((n, p) => n + (labelCounts(p.y).get(1) ?? 0), 0);
      return [d.meta.rowsKept, malignant];
    });
    expect(seen).toEqual([[300, 75], [180, 81], [89, 56]]);
  });

  it('partitions the pooled rows exactly', () => {
    const body = (file: string) => readFileSync(`${dataDir}${file}`, 'utf8').trim().split('\n').slice(1);
    const parts = hospitals.flatMap((h) => body(`hospitals/${h}.csv`));
    expect(parts.sort()).toEqual(body('breast_cancer.csv').sort());
  });
});
