import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/client/data/errors.js';
import { readCsvTable } from '../../../src/client/data/readCsvTable.js';
import { csvFixtureDir } from './csvFixture.js';

const fx = csvFixtureDir();
afterAll(() => fx.remove());

describe('readCsvTable', () => {
  it('reads a header, trims cells, skips blank lines, strips a BOM, keeps line numbers', () => {
    const file = fx.write('ok.csv', '\uFEFFa, b\n1 ,2\n\n"3", "4,5"\n');
    const t = readCsvTable(file, { header: true });
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.records).toEqual([
      { cells: ['1', '2'], line: 2 },
      { cells: ['3', '4,5'], line: 4 },
    ]);
  });

  it('names columns from the config when there is no header', () => {
    const t = readCsvTable(fx.write('nohead.csv', '1,2\n3,4\n'), { header: false, columns: ['p', 'q'] });
    expect(t.columns).toEqual(['p', 'q']);
    expect(t.records).toHaveLength(2);
  });

  it('refuses ragged rows, naming the file, the line and the expected columns', () => {
    const file = fx.write('ragged.csv', 'a,b,c\n1,2,3\n4,5\n');
    expect(() => readCsvTable(file, { header: true })).toThrow(
      `${file}, line 3: 2 field(s), expected 3 (a, b, c)`,
    );
    expect(() => readCsvTable(fx.write('ragged2.csv', '1,2,3\n'), { header: false, columns: ['a', 'b'] })).toThrow(
      /line 1: 3 field\(s\), expected 2/,
    );
  });

  it('refuses a missing file, an empty file, duplicate and empty header names, broken quoting', () => {
    expect(() => readCsvTable(fx.dir + '/nope.csv', { header: true })).toThrow(/nope\.csv: cannot read the data file: no such file/);
    expect(() => readCsvTable(fx.write('empty.csv', ''), { header: true })).toThrow(/empty; expected a header/);
    expect(() => readCsvTable(fx.write('dup.csv', 'a,a\n1,2\n'), { header: true })).toThrow(/column "a" appears twice/);
    expect(() => readCsvTable(fx.write('blank.csv', 'a,,c\n1,2,3\n'), { header: true })).toThrow(/line 1: header field 2 is empty/);
    expect(() => readCsvTable(fx.write('quote.csv', 'a,b\n"1,2\n'), { header: true })).toThrow(DataError);
  });
});
