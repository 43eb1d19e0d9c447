import { describe, expect, it } from 'vitest';
import { csvDataConfigSchema, parseCsvDataConfig } from '../../../src/client/data/csvDataConfig.js';
import { DataError } from '../../../src/client/data/errors.js';

describe('csvDataConfigSchema', () => {
  it('fills the documented defaults', () => {
    const c = parseCsvDataConfig({ path: 'a.csv', label: 'y' });
    expect(c).toEqual({
      path: 'a.csv',
      header: true,
      label: 'y',
      drop: [],
      missingValues: ['?', '', 'NA'],
      missing: 'drop-row',
      categorical: {},
      testFraction: 0.25,
      stratify: true,
      seed: 42,
      standardize: true,
    });
  });

  it('fills dropFirst: false on categorical encodings', () => {
    const c = parseCsvDataConfig({ path: 'a.csv', label: 'y', categorical: { cp: { levels: [1, 2] } } });
    expect(c.categorical.cp).toEqual({ levels: [1, 2], dropFirst: false });
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['no columns without a header', { header: false }, /columns are required when header is false/],
    ['columns with a header', { columns: ['a', 'y'] }, /give columns only with header: false/],
    ['testFraction 0', { testFraction: 0 }, /testFraction must be > 0/],
    ['testFraction 1', { testFraction: 1 }, /testFraction must be < 1/],
    ['a fractional seed', { seed: 1.5 }, /seed must be an integer/],
    ['an unknown key (typo)', { lable: 'y' }, /lable/],
    ['a dropped label', { drop: ['y'] }, /label "y" cannot be dropped/],
    ['the label as a feature', { features: ['a', 'y'] }, /label "y" cannot also be a feature/],
    ['a dropped feature', { features: ['a'], drop: ['a'] }, /"a" is both a feature and dropped/],
    ['a categorical column outside features', { features: ['a'], categorical: { b: { levels: [1] } } }, /"b" is not in features/],
    ['duplicate levels', { categorical: { b: { levels: [1, 1] } } }, /level 1 is listed twice/],
    ['dropFirst with one level', { categorical: { b: { levels: ['x'], dropFirst: true } } }, /at least 2 levels/],
    ['an unknown label transform', { labelTransform: { threshold: 1 } }, /labelTransform/],
    ['a bad missing policy', { missing: 'impute' }, /missing/],
  ];
  for (const [what, extra, message] of refused) {
    it(`refuses ${what}, saying where`, () => {
      const input = { path: 'a.csv', label: 'y', ...extra };
      expect(csvDataConfigSchema.safeParse(input).success).toBe(false);
      expect(() => parseCsvDataConfig(input, 'hospital.yaml data')).toThrow(message);
      expect(() => parseCsvDataConfig(input, 'hospital.yaml data')).toThrow(/invalid hospital.yaml data/);
      expect(() => parseCsvDataConfig(input)).toThrow(DataError);
    });
  }
});
