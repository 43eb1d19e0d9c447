import { resolve } from 'node:path';
import { DataError } from './errors.js';
import { parseCsvDataConfig, type CsvDataConfigInput } from './csvDataConfig.js';
import { encodeTable } from './encodeTable.js';
import { planFeatures } from './featurePlan.js';
import { dataSchemaOf } from './dataSchema.js';
import { schemaFingerprint } from './fingerprint.js';
import { applyPublicScaling, type PublicScalingReport } from './publicScaling.js';
import type { DataSchema } from '../../protocol/dataSchema.js';
import { readCsvTable } from './readCsvTable.js';
import { trainTestSplit } from './split.js';
import { standardizeTrainTest } from './standardize.js';
import type { TrainTest } from './tabular.js';

/** Facts about a load that are safe to log or announce: counts and the schema, never values. */
export interface CsvDataMeta {
  /** The resolved path of the file read. */
  readonly file: string;
  /** Data records in the file (the header excluded). */
  readonly rowsRead: number;
  /** Records skipped for a missing value. */
  readonly rowsDropped: number;
  /** Per used column, the skipped records that miss a value there (a record can count in several columns). */
  readonly missingByColumn: Readonly<Record<string, number>>;
  /** Kept records per label value (local only: printed at start, never sent). */
  readonly rowsPerLabel: Readonly<Record<string, number>>;
  /** Rows left after dropping those with missing values. */
  readonly rowsKept: number;
  /** Rows in the training split. */
  readonly trainRows: number;
  /** Rows in the test split. */
  readonly testRows: number;
  /** Feature columns after one-hot encoding. */
  readonly featureCount: number;
  /** Whether the split was stratified on the label (see `splitIndices` for when it falls back). */
  readonly stratified: boolean;
  /** Whether the features were z-scored with the training rows. */
  readonly standardized: boolean;
  /** With publicScaling: values clipped into their public range, by feature (counts stay at the client). */
  readonly publicScaling?: PublicScalingReport;
  /** SHA-256 over the ordered feature names: equal across clients whose feature vectors line up. */
  readonly schemaFingerprint: string;
  /** Columns, types, levels and label: what the node announces so the coordinator can check it against the study's. */
  readonly schema?: DataSchema;
}

export interface LoadedCsvData extends TrainTest {
  /** What was read, dropped, split and how. */
  readonly meta: CsvDataMeta;
}

/**
 * Read a client's local CSV as its config says: validate the config, parse the file, drop rows with missing
 * values, encode features and label, split with the seed, then z-score with statistics of the training rows.
 * Throws a DataError naming the file, line and column of the first problem.
 */
export function loadCsvData(input: CsvDataConfigInput, baseDir: string = process.cwd()): LoadedCsvData {
  const source = typeof input.path === 'string' ? `data config for ${input.path}` : 'data config';
  const config = parseCsvDataConfig(input, source);
  const file = resolve(baseDir, config.path);
  const table = readCsvTable(file, { header: config.header, columns: config.columns });
  const plan = planFeatures(file, table.columns, config);
  const { data, rowsDropped, missingByColumn } = encodeTable(table, plan, config);
  if (data.rows === 0) {
    throw new DataError(
      `no rows left to train on: ${table.records.length} read, ${rowsDropped} dropped for missing values`,
      { file },
    );
  }
  let split: TrainTest & { readonly stratified: boolean };
  try {
    split = trainTestSplit(data, { testFraction: config.testFraction, stratify: config.stratify, seed: config.seed });
  } catch (err) {
    throw err instanceof RangeError ? new DataError(err.message, { file }) : err;
  }
  let { train, test } = split;
  let publicScaling: PublicScalingReport | undefined;
  if (config.publicScaling) {
    try {
      ({ train, test, report: publicScaling } = applyPublicScaling({ train, test }, config.publicScaling));
    } catch (err) {
      throw err instanceof DataError ? new DataError(err.message, { file }) : err;
    }
  }
  if (config.standardize) {
    try {
      ({ train, test } = standardizeTrainTest({ train, test }));
    } catch (err) {
      throw err instanceof RangeError ? new DataError(`${err.message} (or set standardize: false)`, { file }) : err;
    }
  }
  return {
    train,
    test,
    meta: {
      file,
      rowsRead: table.records.length,
      rowsDropped,
      missingByColumn,
      rowsPerLabel: countLabels(data.y),
      rowsKept: data.rows,
      trainRows: train.rows,
      testRows: test.rows,
      featureCount: plan.featureNames.length,
      stratified: split.stratified,
      standardized: config.standardize,
      ...(publicScaling ? { publicScaling } : {}),
      schemaFingerprint: schemaFingerprint(plan.featureNames),
      schema: dataSchemaOf(plan, config),
    },
  };
}

/** Rows per label value, keyed by the value as text, in ascending order. */
export function countLabels(y: Float32Array): Record<string, number> {
  const counts = new Map<number, number>();
  for (const v of y) counts.set(v, (counts.get(v) ?? 0) + 1);
  return Object.fromEntries([...counts].sort(([a], [b]) => a - b).map(([v, n]) => [String(v), n]));
}
