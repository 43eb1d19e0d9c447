import { featureCount, type TabularData, type TrainTest } from './tabular.js';

/** Per-feature z-score parameters, fitted on training rows. */
export interface Standardization {
  /** Per-feature mean of the training rows. */
  readonly mean: Float64Array;
  /** Unbiased (n - 1) standard deviation, as torch's `std`. */
  readonly std: Float64Array;
  /** Features that take a single value on the training rows; they map to 0. */
  readonly constant: readonly boolean[];
}

/** Added to the standard deviation before dividing, as FLamby's Fed-Heart-Disease does. */
export const STD_EPSILON = 1e-9;

/** Mean and unbiased std of every feature of `data` (float64 accumulation). Needs at least 2 rows. */
export function fitStandardization(data: TabularData): Standardization {
  const width = featureCount(data);
  if (data.rows < 2) {
    throw new RangeError(`standardization needs at least 2 training rows to estimate a std, got ${data.rows}`);
  }
  const mean = new Float64Array(width);
  const std = new Float64Array(width);
  const constant: boolean[] = [];
  for (let j = 0; j < width; j++) {
    const first = data.x[j] as number;
    let sum = 0;
    let same = true;
    for (let r = 0; r < data.rows; r++) {
      const v = data.x[r * width + j] as number;
      sum += v;
      if (v !== first) same = false;
    }
    const m = sum / data.rows;
    let squares = 0;
    for (let r = 0; r < data.rows; r++) {
      const d = (data.x[r * width + j] as number) - m;
      squares += d * d;
    }
    mean[j] = m;
    std[j] = Math.sqrt(squares / (data.rows - 1));
    constant.push(same);
  }
  return { mean, std, constant };
}

/**
 * (x - mean) / (std + 1e-9) with fitted parameters; a feature constant on the training rows becomes 0 on
 * every row (FLamby's formula gives 0 there up to rounding; we make it exact, and keep a test value that
 * differs from the training constant from exploding to ~1e9). Returns a new table.
 */
export function applyStandardization(data: TabularData, s: Standardization): TabularData {
  const width = featureCount(data);
  if (s.mean.length !== width) {
    throw new RangeError(`standardization was fitted on ${s.mean.length} features, the table has ${width}`);
  }
  const x = new Float32Array(data.x.length);
  for (let r = 0; r < data.rows; r++) {
    for (let j = 0; j < width; j++) {
      const i = r * width + j;
      x[i] = s.constant[j] ? 0 : ((data.x[i] as number) - (s.mean[j] as number)) / ((s.std[j] as number) + STD_EPSILON);
    }
  }
  return { x, y: new Float32Array(data.y), rows: data.rows, featureNames: data.featureNames };
}

/** Fit on the training rows only, then apply to both train and test. */
export function standardizeTrainTest(data: TrainTest): TrainTest {
  const s = fitStandardization(data.train);
  return { train: applyStandardization(data.train, s), test: applyStandardization(data.test, s) };
}
