import type { CategoricalEncoding, CsvDataConfig } from './csvDataConfig.js';
import { DataError } from './errors.js';

export interface NumericFeature {
  readonly name: string;
  /** Position of the column in the file. */
  readonly index: number;
}

export interface CategoricalFeature extends NumericFeature {
  readonly encoding: CategoricalEncoding;
  /** The levels that get an output column (all, or all but the first with dropFirst). */
  readonly outputLevels: readonly (string | number)[];
}

/** Which file columns feed which output columns, decided once from the header and the config. */
export interface FeaturePlan {
  readonly labelIndex: number;
  readonly numeric: readonly NumericFeature[];
  readonly categorical: readonly CategoricalFeature[];
  /**
   * Output column names: numeric features in order, then each categorical feature's dummies
   * (`<column>_<level>`), in order: the layout of pandas `get_dummies`, which FLamby uses.
   */
  readonly featureNames: readonly string[];
}

export function planFeatures(file: string, columns: readonly string[], config: CsvDataConfig): FeaturePlan {
  const known = `the columns are: ${columns.join(', ')}`;
  const indexOf = (name: string, role: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new DataError(`${role} column "${name}" not found; ${known}`, { file });
    return i;
  };
  const labelIndex = indexOf(config.label, 'label');
  for (const name of config.drop) indexOf(name, 'dropped');
  const drop = new Set(config.drop);
  const features = config.features ?? columns.filter((c) => c !== config.label && !drop.has(c));
  if (features.length === 0) throw new DataError(`no feature columns left besides the label; ${known}`, { file });
  const categoricalNames = Object.keys(config.categorical);
  for (const name of categoricalNames) {
    indexOf(name, 'categorical');
    if (!features.includes(name)) throw new DataError(`categorical column "${name}" is not a feature`, { file });
  }

  const numeric: NumericFeature[] = [];
  const categorical: CategoricalFeature[] = [];
  for (const name of features) {
    const index = indexOf(name, 'feature');
    const encoding = config.categorical[name];
    if (encoding === undefined) numeric.push({ name, index });
    else categorical.push({ name, index, encoding, outputLevels: encoding.levels.slice(encoding.dropFirst ? 1 : 0) });
  }
  const featureNames = [
    ...numeric.map((f) => f.name),
    ...categorical.flatMap((f) => f.outputLevels.map((level) => `${f.name}_${String(level)}`)),
  ];
  const seen = new Set<string>();
  for (const name of featureNames) {
    if (seen.has(name)) {
      const why = 'a one-hot column clashes with a column name';
      throw new DataError(`output feature "${name}" would appear twice (${why})`, { file });
    }
    seen.add(name);
  }
  return { labelIndex, numeric, categorical, featureNames };
}
