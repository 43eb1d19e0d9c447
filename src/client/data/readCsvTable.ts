import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DataError } from './errors.js';

/** One data record of a CSV file, as trimmed text, with the line where it ends (for error messages). */
export interface CsvRecord {
  readonly cells: readonly string[];
  readonly line: number;
}

/** A CSV file as text cells, every record checked to have one cell per column. */
export interface CsvTable {
  readonly file: string;
  readonly columns: readonly string[];
  readonly records: readonly CsvRecord[];
}

export interface ReadCsvOptions {
  /** The first record holds the column names. */
  readonly header: boolean;
  /** Column names when there is no header line. */
  readonly columns?: readonly string[] | undefined;
}

/** Read and parse a CSV file (comma-separated, optional BOM, blank lines skipped, cells trimmed). */
export function readCsvTable(file: string, options: ReadCsvOptions): CsvTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'no such file' : String(err);
    throw new DataError(`cannot read the data file: ${reason}`, { file });
  }
  const parsed = parseRecords(file, text);

  let columns: readonly string[];
  let body: readonly CsvRecord[];
  if (options.header) {
    const head = parsed[0];
    if (head === undefined) throw new DataError('the file is empty; expected a header line', { file });
    columns = head.cells;
    body = parsed.slice(1);
    const empty = columns.findIndex((c) => c === '');
    if (empty >= 0) {
      throw new DataError(`header field ${empty + 1} is empty; every column needs a name`, { file, line: head.line });
    }
  } else {
    if (options.columns === undefined) {
      throw new DataError('columns are required when the file has no header line', { file });
    }
    columns = options.columns;
    body = parsed;
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) {
      throw new DataError(`column "${c}" appears twice in the ${options.header ? 'header' : 'columns list'}`, { file });
    }
    seen.add(c);
  }
  for (const record of body) {
    if (record.cells.length !== columns.length) {
      throw new DataError(
        `${record.cells.length} field(s), expected ${columns.length} (${columns.join(', ')})`,
        { file, line: record.line },
      );
    }
  }
  return { file, columns, records: body };
}

function parseRecords(file: string, text: string): CsvRecord[] {
  let raw: unknown[];
  try {
    raw = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true });
  } catch (err) {
    const line = err instanceof Error && 'lines' in err && typeof err.lines === 'number' ? err.lines : undefined;
    throw new DataError(`not a valid CSV file: ${err instanceof Error ? err.message : String(err)}`, { file, line });
  }
  return raw.map((entry) => {
    if (!isInfoRecord(entry)) throw new Error('csv-parse returned an unexpected record shape');
    return { cells: entry.record, line: entry.info.lines };
  });
}

/** With `info: true`, csv-parse returns `{ record, info }` objects (its sync typings do not say so). */
function isInfoRecord(value: unknown): value is { record: string[]; info: { lines: number } } {
  if (typeof value !== 'object' || value === null) return false;
  if (!('record' in value) || !('info' in value)) return false;
  const { record, info } = value;
  return (
    Array.isArray(record) &&
    record.every((cell) => typeof cell === 'string') &&
    typeof info === 'object' &&
    info !== null &&
    'lines' in info &&
    typeof info.lines === 'number'
  );
}
