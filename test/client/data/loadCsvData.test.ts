import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/client/data/errors.js';
import { loadCsvData } from '../../../src/client/data/loadCsvData.js';
import { dataSummary } from '../../../src/client/data/dataSummary.js';
import { columnStats, csvFixtureDir } from './csvFixture.js';

const fx = csvFixtureDir();
afterAll(() => fx.remove());

/** Rows of x as plain arrays, sorted, for order-free comparison. */
function rowsOf(x: Float32Array, width: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < x.length / width; r++) rows.push([...x.subarray(r * width, (r + 1) * width)]);
  return rows.sort((a, b) => String(a).localeCompare(String(b)));
}

// 40 rows: id, a numeric feature, a noise column to drop, and a 0/1 label (30 % positive).
const wide = ['id,size,noise,y', ...Array.from({ length: 40 }, (_, i) => `${i},${(i * 7) % 13},junk${i},${i % 10 < 3 ? 1 : 0}`)].join('\n');

describe('loadCsvData: reading and encoding', () => {
  it('reads features in file order, resolves paths against baseDir, reports counts and a fingerprint', () => {
    fx.write('wide.csv', wide);
    const d = loadCsvData({ path: 'wide.csv', label: 'y', drop: ['noise'], standardize: false }, fx.dir);
    expect(d.train.featureNames).toEqual(['id', 'size']);
    expect(d.meta).toMatchObject({
      rowsRead: 40, rowsDropped: 0, rowsKept: 40, trainRows: 30, testRows: 10,
      featureCount: 2, stratified: true, standardized: false,
    });
    expect(d.meta.file).toBe(`${fx.dir}/wide.csv`);
    expect(d.meta.schemaFingerprint).toMatch(/^[0-9a-f]{64}$/);
    // Raw values survive: every row's size is id*7 mod 13 and its label id%10<3.
    for (const part of [d.train, d.test]) {
      for (let r = 0; r < part.rows; r++) {
        const id = part.x[r * 2] as number;
        expect(part.x[r * 2 + 1]).toBe((id * 7) % 13);
        expect(part.y[r]).toBe(id % 10 < 3 ? 1 : 0);
      }
    }
  });

  it('uses an explicit feature list in its order', () => {
    fx.write('wide.csv', wide);
    const d = loadCsvData({ path: 'wide.csv', label: 'y', features: ['size', 'id'], standardize: false }, fx.dir);
    expect(d.train.featureNames).toEqual(['size', 'id']);
    expect(d.meta.schemaFingerprint).not.toBe(
      loadCsvData({ path: 'wide.csv', label: 'y', drop: ['noise'] }, fx.dir).meta.schemaFingerprint,
    );
  });

  it('binarizes or maps the label', () => {
    const file = fx.write('lab.csv', 'a,num,dx\n1,0,B\n2,1,M\n3,4,B\n4,2,M\n5,0,M\n6,3,B\n7,0,B\n8,0,M\n');
    const b = loadCsvData({ path: file, label: 'num', drop: ['dx'], labelTransform: { binarize: { above: 0 } }, standardize: false });
    const m = loadCsvData({ path: file, label: 'dx', drop: ['num'], labelTransform: { map: { M: 1, B: 0 } }, standardize: false });
    const labelByA = (d: typeof b): Record<number, number> => {
      const out: Record<number, number> = {};
      for (const part of [d.train, d.test]) for (let r = 0; r < part.rows; r++) out[part.x[r] as number] = part.y[r] as number;
      return out;
    };
    expect(labelByA(b)).toEqual({ 1: 0, 2: 1, 3: 1, 4: 1, 5: 0, 6: 1, 7: 0, 8: 0 });
    expect(labelByA(m)).toEqual({ 1: 0, 2: 1, 3: 0, 4: 1, 5: 1, 6: 0, 7: 0, 8: 1 });
  });
});

describe('loadCsvData: one-hot encoding', () => {
  const encoding = { cp: { levels: [1, 2, 3, 4], dropFirst: true }, ecg: { levels: ['normal', 'lvh'] } };

  it('gives every hospital the same columns, whatever levels it happens to hold', () => {
    // Hospital A has cp 1-2 only (written as floats), hospital B has cp 3-4 only.
    const a = fx.write('a.csv', 'age,cp,ecg,y\n50,1.0,normal,0\n51,2.0,lvh,1\n52,1.0,lvh,0\n53,2.0,normal,1\n');
    const b = fx.write('b.csv', 'age,cp,ecg,y\n60,3,lvh,1\n61,4,lvh,0\n62,3,normal,1\n63,4,lvh,0\n');
    const load = (path: string) => loadCsvData({ path, label: 'y', categorical: encoding, testFraction: 0.5, standardize: false });
    const da = load(a);
    const db = load(b);
    const names = ['age', 'cp_2', 'cp_3', 'cp_4', 'ecg_normal', 'ecg_lvh'];
    expect(da.train.featureNames).toEqual(names);
    expect(db.train.featureNames).toEqual(names);
    expect(da.meta.schemaFingerprint).toBe(db.meta.schemaFingerprint);
    const all = (d: typeof da) => rowsOf(Float32Array.from([...d.train.x, ...d.test.x]), names.length);
    expect(all(da)).toEqual(rowsOf(Float32Array.from([
      50, 0, 0, 0, 1, 0,
      51, 1, 0, 0, 0, 1,
      52, 0, 0, 0, 0, 1,
      53, 1, 0, 0, 1, 0,
    ]), 6));
    expect(all(db)).toEqual(rowsOf(Float32Array.from([
      60, 0, 1, 0, 0, 1,
      61, 0, 0, 1, 0, 1,
      62, 0, 1, 0, 1, 0,
      63, 0, 0, 1, 0, 1,
    ]), 6));
  });

  it('refuses an unseen level, naming the line, the column and the allowed levels', () => {
    const file = fx.write('unseen.csv', 'age,cp,ecg,y\n50,1,normal,0\n51,5,lvh,1\n');
    expect(() => loadCsvData({ path: file, label: 'y', categorical: encoding })).toThrow(
      `${file}, line 3, column "cp": "5" is not a declared level; allowed: 1, 2, 3, 4`,
    );
  });

  it('refuses a categorical column that is not in the file', () => {
    const file = fx.write('nocat.csv', 'age,y\n1,0\n2,1\n');
    expect(() => loadCsvData({ path: file, label: 'y', categorical: { cp: { levels: [1] } } })).toThrow(
      /categorical column "cp" not found; the columns are: age, y/,
    );
  });
});

describe('loadCsvData: missing values', () => {
  const text = 'a,b,skip,y\n1,2,?,0\n?,3,x,1\n4,NA,x,0\n5,6,x,\n7,8,x,1\n9,10,x,0\n11,12,x,1\n13,14,x,0\n';

  it('drops rows with a missing feature or label, ignoring dropped columns', () => {
    const file = fx.write('miss.csv', text);
    const d = loadCsvData({ path: file, label: 'y', drop: ['skip'], standardize: false, testFraction: 0.2 });
    expect(d.meta).toMatchObject({ rowsRead: 8, rowsDropped: 3, rowsKept: 5 });
    const kept = [...d.train.x, ...d.test.x].filter((_, i) => i % 2 === 0).sort((p, q) => p - q);
    expect(kept).toEqual([1, 7, 9, 11, 13]);
    // Why each row went, per column (the dropped column's '?' counts nowhere), and what is left per class.
    expect(d.meta.missingByColumn).toEqual({ a: 1, b: 1, y: 1 });
    expect(d.meta.rowsPerLabel).toEqual({ 0: 3, 1: 2 });
    expect(dataSummary('north', d.meta)).toBe('north: 8 rows read from miss.csv; 3 dropped for missing values (rows missing: a 1, b 1, y 1); 5 kept: 4 train / 1 test, 2 features; per class: 0 3, 1 2');
  });

  it('counts a row missing two cells in both columns, and names classes by the label map', () => {
    const file = fx.write('miss2.csv', 'a,b,y\n?,?,M\n?,1,B\n1,2,M\n3,4,B\n5,6,B\n7,8,M\n9,9,B\n');
    const d = loadCsvData({ path: file, label: 'y', labelTransform: { map: { M: 1, B: 0 } }, standardize: false, stratify: false, testFraction: 0.2 });
    expect(d.meta.missingByColumn).toEqual({ a: 2, b: 1 });
    expect(dataSummary('south', d.meta)).toMatch(/; 2 dropped for missing values \(rows missing: a 2, b 1\); 5 kept: .*; per class: B=0 3, M=1 2$/);
    expect(d.meta.schema).toEqual({ features: [{ name: 'a', type: 'numeric' }, { name: 'b', type: 'numeric' }], label: { name: 'y', transform: { map: { M: 1, B: 0 } } } });
  });

  it('honours custom tokens', () => {
    const file = fx.write('miss.csv', text);
    expect(() => loadCsvData({ path: file, label: 'y', drop: ['skip'], missingValues: ['?', ''] })).toThrow(
      /line 4, column "b": "NA" is not a number; expected .* \("\?", ""\)/,
    );
  });

  it("fails on the first missing value with missing: 'error'", () => {
    const file = fx.write('miss.csv', text);
    expect(() => loadCsvData({ path: file, label: 'y', drop: ['skip'], missing: 'error' })).toThrow(
      `${file}, line 3, column "a": missing value "?" (missing: 'error'; use 'drop-row' to skip such rows)`,
    );
  });

  it('says so when nothing is left', () => {
    const file = fx.write('allmiss.csv', 'a,y\n?,1\n?,0\n');
    expect(() => loadCsvData({ path: file, label: 'y' })).toThrow(/no rows left to train on: 2 read, 2 dropped/);
  });
});

describe('loadCsvData: malformed input', () => {
  it('refuses a non-numeric cell, naming file, line, column and what is allowed', () => {
    const file = fx.write('text.csv', 'a,b,y\n1,2,0\n3,abc,1\n');
    let caught: unknown;
    try {
      loadCsvData({ path: file, label: 'y' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DataError);
    expect(caught).toMatchObject({ file, line: 3, column: 'b' });
    expect((caught as DataError).message).toBe(
      `${file}, line 3, column "b": "abc" is not a number; expected a decimal number such as 12 or -0.5e3, ` +
        `or a missing-value token ("?", "", "NA")`,
    );
  });

  it('refuses numbers Number() would accept but a CSV should not contain', () => {
    for (const cell of ['0x10', 'Infinity', '1e999', '1,5']) {
      const file = fx.write('odd.csv', `a,y\n1,0\n"${cell}",1\n`);
      expect(() => loadCsvData({ path: file, label: 'y' }), cell).toThrow(/line 3, column "a".*is not a number/);
    }
  });

  it('refuses a missing label column, listing the columns', () => {
    const file = fx.write('nolabel.csv', 'a,b\n1,2\n');
    expect(() => loadCsvData({ path: file, label: 'target' })).toThrow(
      `${file}: label column "target" not found; the columns are: a, b`,
    );
  });

  it('refuses an unknown feature or dropped column', () => {
    const file = fx.write('f.csv', 'a,b,y\n1,2,0\n');
    expect(() => loadCsvData({ path: file, label: 'y', features: ['a', 'c'] })).toThrow(/feature column "c" not found/);
    expect(() => loadCsvData({ path: file, label: 'y', drop: ['z'] })).toThrow(/dropped column "z" not found/);
  });

  it('refuses a non-numeric label and an unmapped label', () => {
    const file = fx.write('l.csv', 'a,y\n1,0\n2,yes\n');
    expect(() => loadCsvData({ path: file, label: 'y' })).toThrow(/line 3, column "y": label "yes" is not a number/);
    expect(() => loadCsvData({ path: file, label: 'y', labelTransform: { map: { '0': 0, no: 0 } } })).toThrow(
      /line 3, column "y": label "yes" is not in labelTransform.map; allowed: "0", "no"/,
    );
  });

  it('refuses ragged rows', () => {
    const file = fx.write('rag.csv', 'a,b,y\n1,2,0\n3,1\n');
    expect(() => loadCsvData({ path: file, label: 'y' })).toThrow(`${file}, line 3: 2 field(s), expected 3 (a, b, y)`);
  });

  it('refuses an invalid config before touching the file', () => {
    expect(() => loadCsvData({ path: 'nowhere.csv', label: 'y', testFraction: 2 })).toThrow(
      /invalid data config for nowhere.csv:[\s\S]*testFraction must be < 1/,
    );
  });

  it('refuses a split with too few rows', () => {
    const file = fx.write('one.csv', 'a,y\n1,0\n');
    expect(() => loadCsvData({ path: file, label: 'y' })).toThrow(/cannot split 1 row\(s\)/);
  });
});

describe('loadCsvData: split and standardization', () => {
  it('splits the same way for a seed and differently across seeds', () => {
    fx.write('wide.csv', wide);
    const load = (seed: number) => loadCsvData({ path: 'wide.csv', label: 'y', drop: ['noise'], seed }, fx.dir);
    expect(load(7).test.x).toEqual(load(7).test.x);
    expect(load(7).train.y).toEqual(load(7).train.y);
    const ids = (seed: number) => rowsOf(load(seed).test.x, 2).map((r) => r[0]);
    expect(ids(7)).not.toEqual(ids(8));
  });

  it('keeps the class ratio in train and test when stratified', () => {
    fx.write('wide.csv', wide);
    for (const seed of [1, 2, 3]) {
      const d = loadCsvData({ path: 'wide.csv', label: 'y', drop: ['noise'], seed }, fx.dir);
      expect(d.meta.stratified).toBe(true);
      expect(d.test.y.reduce((s, v) => s + v, 0)).toBe(3); // 10 test rows of a 30 % positive table
      expect(d.train.y.reduce((s, v) => s + v, 0)).toBe(9);
    }
  });

  it('standardizes with training statistics only', () => {
    fx.write('wide.csv', wide);
    const d = loadCsvData({ path: 'wide.csv', label: 'y', drop: ['noise'], seed: 3 }, fx.dir);
    const raw = loadCsvData({ path: 'wide.csv', label: 'y', drop: ['noise'], seed: 3, standardize: false }, fx.dir);
    const train = columnStats(d.train.x, d.train.rows, 2);
    for (const j of [0, 1]) {
      expect(train.mean[j]).toBeCloseTo(0, 5);
      expect(train.std[j]).toBeCloseTo(1, 5);
    }
    // Test rows are shifted by the train mean and scaled by the train std, so their mean is not 0.
    const rawTrain = columnStats(raw.train.x, raw.train.rows, 2);
    const rawTest = columnStats(raw.test.x, raw.test.rows, 2);
    const test = columnStats(d.test.x, d.test.rows, 2);
    for (const j of [0, 1]) {
      const expected = ((rawTest.mean[j] as number) - (rawTrain.mean[j] as number)) / ((rawTrain.std[j] as number) + 1e-9);
      expect(test.mean[j]).toBeCloseTo(expected, 5);
    }
    expect(Math.abs(test.mean[0] as number)).toBeGreaterThan(1e-3);
  });
});
