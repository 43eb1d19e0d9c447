import type { CsvDataConfig, LabelTransform } from './csvDataConfig.js';
import { DataError } from './errors.js';
import type { CategoricalFeature, FeaturePlan } from './featurePlan.js';
import type { CsvRecord, CsvTable } from './readCsvTable.js';
import { parseStrictNumber } from './strictNumber.js';
import type { TabularData } from './tabular.js';

export interface EncodedTable {
  readonly data: TabularData;
  /** Rows skipped because a used cell held a missing-value token (`missing: 'drop-row'`). */
  readonly rowsDropped: number;
  /** For each used column, the dropped rows missing a value there (a row missing two cells counts in both). */
  readonly missingByColumn: Readonly<Record<string, number>>;
}

/** Turn text records into numbers: strict numeric parsing, one-hot encoding, label transform, missing rows. */
export function encodeTable(table: CsvTable, plan: FeaturePlan, config: CsvDataConfig): EncodedTable {
  const { file } = table;
  const width = plan.featureNames.length;
  const missingTokens = new Set(config.missingValues);
  const tokens = config.missingValues.map((t) => JSON.stringify(t)).join(', ');
  const allowed = `expected a decimal number such as 12 or -0.5e3, or a missing-value token (${tokens})`;
  const used = [plan.labelIndex, ...[...plan.numeric, ...plan.categorical].map((f) => f.index)];
  const levelFinders = plan.categorical.map(levelFinder);
  const labelOf = labelReader(config.label, plan.labelIndex, config.labelTransform, allowed);

  const x = new Float32Array(table.records.length * width);
  const y = new Float32Array(table.records.length);
  let kept = 0;
  let rowsDropped = 0;
  const missingByColumn: Record<string, number> = {};
  for (const record of table.records) {
    const missingAt = used.find((i) => missingTokens.has(record.cells[i] as string));
    if (missingAt !== undefined) {
      if (config.missing === 'error') {
        const token = JSON.stringify(record.cells[missingAt]);
        throw new DataError(`missing value ${token} (missing: 'error'; use 'drop-row' to skip such rows)`, {
          file,
          line: record.line,
          column: table.columns[missingAt],
        });
      }
      rowsDropped++;
      for (const i of used) {
        if (!missingTokens.has(record.cells[i] as string)) continue;
        const column = table.columns[i] as string;
        missingByColumn[column] = (missingByColumn[column] ?? 0) + 1;
      }
      continue;
    }
    const row = x.subarray(kept * width, (kept + 1) * width);
    let j = 0;
    for (const f of plan.numeric) {
      const text = record.cells[f.index] as string;
      const value = parseStrictNumber(text);
      if (value === undefined) {
        const at = { file, line: record.line, column: f.name };
        throw new DataError(`${JSON.stringify(text)} is not a number; ${allowed}`, at);
      }
      row[j++] = value;
    }
    plan.categorical.forEach((f, c) => {
      const text = record.cells[f.index] as string;
      const level = (levelFinders[c] as (t: string) => number | undefined)(text);
      if (level === undefined) {
        const levels = f.encoding.levels.map((l) => JSON.stringify(l)).join(', ');
        throw new DataError(
          `${JSON.stringify(text)} is not a declared level; allowed: ${levels} ` +
            `(add it to categorical.${f.name}.levels on every client, or fix the cell)`,
          { file, line: record.line, column: f.name },
        );
      }
      const out = level - (f.encoding.levels.length - f.outputLevels.length);
      if (out >= 0) row[j + out] = 1;
      j += f.outputLevels.length;
    });
    y[kept] = labelOf(record, file);
    kept++;
  }
  const data = { x: x.slice(0, kept * width), y: y.slice(0, kept), rows: kept, featureNames: plan.featureNames };
  return { data, rowsDropped, missingByColumn };
}

/** Index of a cell's level: numeric levels match any numeric spelling ("1", "1.0"), string levels the exact text. */
function levelFinder(f: CategoricalFeature): (text: string) => number | undefined {
  const byText = new Map<string, number>();
  const byNumber = new Map<number, number>();
  f.encoding.levels.forEach((level, i) => {
    if (typeof level === 'number') byNumber.set(level, i);
    else byText.set(level, i);
  });
  return (text) => {
    const exact = byText.get(text);
    if (exact !== undefined) return exact;
    const value = parseStrictNumber(text);
    return value === undefined ? undefined : byNumber.get(value);
  };
}

/** The label as a number: parsed directly, binarized against a threshold, or looked up in a map. */
function labelReader(
  label: string,
  labelIndex: number,
  transform: LabelTransform | undefined,
  allowed: string,
): (record: CsvRecord, file: string) => number {
  const numeric = (record: CsvRecord, file: string): number => {
    const text = record.cells[labelIndex] as string;
    const value = parseStrictNumber(text);
    if (value === undefined) {
      const at = { file, line: record.line, column: label };
      throw new DataError(`label ${JSON.stringify(text)} is not a number; ${allowed}`, at);
    }
    return value;
  };
  if (transform === undefined) return numeric;
  if ('binarize' in transform) {
    const { above } = transform.binarize;
    return (record, file) => (numeric(record, file) > above ? 1 : 0);
  }
  const byText = new Map(Object.entries(transform.map));
  const byNumber = new Map<number, number>();
  for (const [key, value] of byText) {
    const k = parseStrictNumber(key);
    if (k !== undefined) byNumber.set(k, value);
  }
  const keys = [...byText.keys()].map((k) => JSON.stringify(k)).join(', ');
  return (record, file) => {
    const text = record.cells[labelIndex] as string;
    const value = parseStrictNumber(text);
    const mapped = byText.get(text) ?? (value === undefined ? undefined : byNumber.get(value));
    if (mapped === undefined) {
      throw new DataError(`label ${JSON.stringify(text)} is not in labelTransform.map; allowed: ${keys}`, {
        file,
        line: record.line,
        column: label,
      });
    }
    return mapped;
  };
}
