import { createSeededRng, shuffleInPlace } from '../../protocol/seededRng.js';
import { takeRows, type TabularData, type TrainTest } from './tabular.js';

/** How to split rows into train and test. */
export interface SplitOptions {
  /** Fraction of rows held out for testing, in (0, 1). */
  readonly testFraction: number;
  /** Stratify on the label when the label allows it (see `splitIndices`). */
  readonly stratify: boolean;
  /** Seeds the shuffle: the same seed splits the same way. */
  readonly seed: number;
}

/** Row indices of each side of a split. */
export interface SplitIndices {
  /** Training rows. */
  readonly train: number[];
  /** Test rows. */
  readonly test: number[];
  /** Whether the split was stratified (it falls back to a plain random split when the label does not allow it). */
  readonly stratified: boolean;
}

/** Test-set size as scikit-learn's `train_test_split` computes it for a float `test_size`: ceil(f * n). */
export function testSizeFor(rows: number, testFraction: number): number {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`testFraction must be in (0, 1), got ${testFraction}`);
  }
  const test = Math.ceil(testFraction * rows);
  if (test < 1 || rows - test < 1) {
    throw new RangeError(
      `cannot split ${rows} row(s) with testFraction ${testFraction}: ` +
        `that leaves ${rows - test} training and ${test} test row(s); both need at least 1`,
    );
  }
  return test;
}

/**
 * Row indices of a seeded train/test split.
 *
 * Stratified (each class keeps its share of the test set, rounded like scikit-learn's `_approximate_mode`)
 * when `stratify` is on, every label is an integer, and every class has more than 2 rows: FLamby's rule for
 * Fed-Heart-Disease. Otherwise a plain random split: shuffle, the first ceil(f * n) rows are the test set.
 * Both index lists come back shuffled.
 */
export function splitIndices(labels: ArrayLike<number>, options: SplitOptions): SplitIndices {
  const n = labels.length;
  const testSize = testSizeFor(n, options.testFraction);
  const rng = createSeededRng(options.seed);
  const classes = options.stratify ? groupByClass(labels) : undefined;
  const canStratify = classes !== undefined && [...classes.values()].every((rows) => rows.length > 2);

  if (!canStratify) {
    const order = shuffleInPlace(Array.from({ length: n }, (_, i) => i), rng);
    return { test: order.slice(0, testSize), train: order.slice(testSize), stratified: false };
  }

  const labelsSorted = [...classes.keys()].sort((a, b) => a - b);
  const counts = labelsSorted.map((label) => (classes.get(label) as number[]).length);
  const testPerClass = allocate(counts, testSize, n);
  const train: number[] = [];
  const test: number[] = [];
  labelsSorted.forEach((label, c) => {
    const rows = shuffleInPlace([...(classes.get(label) as number[])], rng);
    const k = testPerClass[c] as number;
    test.push(...rows.slice(0, k));
    train.push(...rows.slice(k));
  });
  return { train: shuffleInPlace(train, rng), test: shuffleInPlace(test, rng), stratified: true };
}

/** Split a table into train and test rows (copies), with the rule of `splitIndices`. */
export function trainTestSplit(data: TabularData, options: SplitOptions): TrainTest & { readonly stratified: boolean } {
  const { train, test, stratified } = splitIndices(data.y, options);
  return { train: takeRows(data, train), test: takeRows(data, test), stratified };
}

/** Row indices per class label, or undefined when some label is not an integer (a regression target). */
function groupByClass(labels: ArrayLike<number>): Map<number, number[]> | undefined {
  const classes = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label)) return undefined;
    const rows = classes.get(label);
    if (rows === undefined) classes.set(label, [i]);
    else rows.push(i);
  }
  return classes;
}

/**
 * Split `total` test rows over classes in proportion to their sizes: floor of each quota, then one more to
 * the classes with the largest remainders (ties: the larger class, then the smaller label). Integer maths.
 */
function allocate(counts: readonly number[], total: number, rows: number): number[] {
  const quota = counts.map((count) => Math.floor((count * total) / rows));
  let left = total - quota.reduce((a, b) => a + b, 0);
  const order = counts
    .map((count, c) => ({ c, count, remainder: (count * total) % rows }))
    .sort((a, b) => b.remainder - a.remainder || b.count - a.count || a.c - b.c);
  for (const { c } of order) {
    if (left === 0) break;
    quota[c] = (quota[c] as number) + 1;
    left--;
  }
  return quota;
}
