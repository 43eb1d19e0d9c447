import { encodeTable } from '../../client/data/encodeTable.js';
import { parseCsvDataConfig } from '../../client/data/csvDataConfig.js';
import { planFeatures } from '../../client/data/featurePlan.js';
import { readCsvTable } from '../../client/data/readCsvTable.js';
import type { TabularData } from '../../client/data/tabular.js';
import type { DataSchema } from '../../protocol/dataSchema.js';

/** The model's input columns for a schema: numeric columns, then `<column>_<level>` for each kept level. */
export function encodedFeatureNames(schema: DataSchema): string[] {
  return schema.features.flatMap((f) => (f.type === 'numeric' ? [f.name] : f.levels.slice(f.dropFirst ? 1 : 0).map((l) => `${f.name}_${String(l)}`)));
}

export interface RawRows {
  readonly data: TabularData;
  /** Whether the file had the label column (then `data.y` holds the labels, read as in training). */
  readonly labelled: boolean;
  /** File line of each encoded row. */
  readonly lines: readonly number[];
  readonly rowsRead: number;
  readonly missingByColumn: Readonly<Record<string, number>>;
}

/** A placeholder label column for files without one: encoding needs a label; its values are never used. */
const NO_LABEL = '\u0000no-label';

/**
 * Reads raw CSV rows (with a header) as a site's loader did in training, from the exported schema: columns found
 * by name, numbers parsed strictly, categorical levels one-hot encoded, rows with missing values skipped and
 * counted, the label read with its transform when the file has it. Features are not scaled (see preprocessing).
 */
export function readRawRows(file: string, schema: DataSchema): RawRows {
  const table = readCsvTable(file, { header: true });
  const labelled = table.columns.includes(schema.label.name);
  const label = labelled ? schema.label.name : NO_LABEL;
  const source = labelled ? table : { ...table, columns: [...table.columns, NO_LABEL], records: table.records.map((r) => ({ ...r, cells: [...r.cells, '0'] })) };
  const config = parseCsvDataConfig({
    path: file,
    label,
    ...(labelled && schema.label.transform ? { labelTransform: schema.label.transform } : {}),
    features: schema.features.map((f) => f.name),
    categorical: Object.fromEntries(schema.features.flatMap((f) => (f.type === 'categorical' ? [[f.name, { levels: f.levels, dropFirst: f.dropFirst }]] : []))),
  });
  const plan = planFeatures(file, source.columns, config);
  const lines = source.records.filter((r) => !config.missingValues.some((t) => [plan.labelIndex, ...[...plan.numeric, ...plan.categorical].map((f) => f.index)].some((i) => r.cells[i] === t))).map((r) => r.line);
  const { data, missingByColumn } = encodeTable(source, plan, config);
  return { data, labelled, lines, rowsRead: table.records.length, missingByColumn };
}
