import { z } from 'zod';
import { DataError } from './errors.js';
import { publicScalingSchema } from './publicScaling.js';

const columnName = z.string().min(1, 'a column name cannot be empty');

/** One-hot encoding of a categorical column with a fixed list of levels, so every hospital gets the same columns. */
export const categoricalEncodingSchema = z
  .strictObject({
    /** Every allowed value, in the order of the output columns. A number matches any numeric spelling ("1", "1.0"). */
    levels: z.array(z.union([z.string(), z.number()])).min(1, 'give at least one level'),
    /** Drop the first level's column (pandas `get_dummies(drop_first=True)`), avoiding collinear columns. */
    dropFirst: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const level of c.levels) {
      const key = `${typeof level}:${String(level)}`;
      if (seen.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['levels'], message: `level ${JSON.stringify(level)} is listed twice` });
      }
      seen.add(key);
    }
    if (c.dropFirst && c.levels.length < 2) {
      const message = 'dropFirst needs at least 2 levels (it would leave no column)';
      ctx.addIssue({ code: 'custom', path: ['dropFirst'], message });
    }
  });

/** How the label cell becomes a number. Without it, the label must already be numeric. */
export const labelTransformSchema = z.union([
  /** 1 when the value is strictly greater than `above`, else 0 (e.g. heart disease: num > 0). */
  z.strictObject({ binarize: z.strictObject({ above: z.number() }) }),
  /** Cell text to number, e.g. { "M": 1, "B": 0 }; numeric keys also match other spellings ("1" matches "1.0"). */
  z.strictObject({ map: z.record(z.string(), z.number()) }),
]);

/** How a client reads its local CSV file into train and test tables. */
export const csvDataConfigSchema = z
  .strictObject({
    /** The CSV file; relative paths are resolved against the loader's base directory. */
    path: z.string().min(1, 'path cannot be empty'),
    /** Whether the first line holds the column names. */
    header: z.boolean().default(true),
    /** Column names, required when `header` is false (and refused when it is true). */
    columns: z.array(columnName).min(1).optional(),
    /** The label column. */
    label: columnName,
    labelTransform: labelTransformSchema.optional(),
    /** Feature columns, in order; default: every column except the label and the dropped ones. */
    features: z.array(columnName).min(1, 'features cannot be empty (omit it to use every column)').optional(),
    /** Columns to ignore entirely (their cells are not even read, so missing values there do not drop rows). */
    drop: z.array(columnName).default(() => []),
    /** Cell texts (after trimming) that mean "missing". */
    missingValues: z.array(z.string()).default(() => ['?', '', 'NA']),
    /** What a missing value in a feature or the label does: drop the row (complete-case analysis) or fail. */
    missing: z.enum(['drop-row', 'error']).default('drop-row'),
    /** One-hot encoded columns; their dummies come after the numeric features, as pandas `get_dummies` places them. */
    categorical: z.record(columnName, categoricalEncodingSchema).default(() => ({})),
    testFraction: z.number().gt(0, 'testFraction must be > 0').lt(1, 'testFraction must be < 1').default(0.25),
    /** Stratify the split on the label when every class has more than 2 rows. */
    stratify: z.boolean().default(true),
    seed: z.number().int('seed must be an integer').default(42),
    /**
     * z-score each feature with the mean and unbiased std of the training rows (+1e-9), as FLamby. Default: yes,
     * unless publicScaling is given.
     */
    standardize: z.boolean().optional(),
    /** Scale features from public ranges instead (no statistic of the rows is used or sent; see publicScaling.ts). */
    publicScaling: publicScalingSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if (!c.header && c.columns === undefined) issue('columns', 'columns are required when header is false');
    if (c.standardize === true && c.publicScaling !== undefined) {
      issue('standardize', "publicScaling replaces the z-score from this client's own rows: drop standardize: true, or publicScaling");
    }
    if (c.header && c.columns !== undefined) {
      issue('columns', 'columns are read from the header line; give columns only with header: false');
    }
    for (const [key, list] of [['columns', c.columns], ['features', c.features], ['drop', c.drop]] as const) {
      const twice = duplicates(list ?? []);
      if (twice.length > 0) issue(key, `listed twice: ${twice.join(', ')}`);
    }
    const drop = new Set(c.drop);
    if (drop.has(c.label)) issue('drop', `the label "${c.label}" cannot be dropped`);
    if (c.features?.includes(c.label)) issue('features', `the label "${c.label}" cannot also be a feature`);
    for (const f of c.features ?? []) if (drop.has(f)) issue('features', `"${f}" is both a feature and dropped`);
    for (const name of Object.keys(c.categorical)) {
      if (name === c.label) issue('categorical', `the label "${name}" cannot be one-hot encoded; use labelTransform`);
      else if (drop.has(name)) issue('categorical', `"${name}" is dropped, so it cannot be categorical`);
      else if (c.features !== undefined && !c.features.includes(name)) {
        issue('categorical', `"${name}" is not in features (${c.features.join(', ')})`);
      }
    }
  })
  .transform((c) => ({ ...c, standardize: c.standardize ?? c.publicScaling === undefined }));

/** What a config file may say (defaults optional). */
export type CsvDataConfigInput = z.input<typeof csvDataConfigSchema>;
/** A validated config with every default filled in. */
export type CsvDataConfig = z.output<typeof csvDataConfigSchema>;
/** A categorical column's one-hot encoding: its fixed levels and whether the first is dropped. */
export type CategoricalEncoding = z.output<typeof categoricalEncodingSchema>;
/** How raw label values become 0/1 or class indices: `binarize` above a threshold, or a `map`. */
export type LabelTransform = z.output<typeof labelTransformSchema>;

/** Validate a data config; throws a DataError listing every problem with its path. */
export function parseCsvDataConfig(input: unknown, source = 'data config'): CsvDataConfig {
  const result = csvDataConfigSchema.safeParse(input);
  if (!result.success) throw new DataError(`invalid ${source}:\n${z.prettifyError(result.error)}`);
  return result.data;
}

function duplicates(items: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const item of items) (seen.has(item) ? twice : seen).add(item);
  return [...twice];
}
