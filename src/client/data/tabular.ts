/**
 * A numeric table held in memory on a client: the shape every data loader produces and every trainer reads.
 * It never leaves the client.
 */
export interface TabularData {
  /** Features, row-major: `rows * featureNames.length` values. */
  readonly x: Float32Array;
  /** One label per row: 0/1 for binary tasks, a class index, or a regression target. */
  readonly y: Float32Array;
  /** Number of rows. */
  readonly rows: number;
  /** Column names of `x`, in order; their count is the feature dimension. */
  readonly featureNames: readonly string[];
}

/** A client's local data, already split into the rows it trains on and the rows it evaluates on. */
export interface TrainTest {
  /** The training rows. */
  readonly train: TabularData;
  /** The held-out rows. */
  readonly test: TabularData;
}

/** Number of features (columns of `x`). */
export function featureCount(data: TabularData): number {
  return data.featureNames.length;
}

/** A new table holding the given rows of `data`, in the given order (copies; `data` is left untouched). */
export function takeRows(data: TabularData, indices: ArrayLike<number>): TabularData {
  const width = featureCount(data);
  const x = new Float32Array(indices.length * width);
  const y = new Float32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] as number;
    if (!Number.isInteger(r) || r < 0 || r >= data.rows) {
      throw new RangeError(`row index ${r} is outside 0..${data.rows - 1}`);
    }
    x.set(data.x.subarray(r * width, (r + 1) * width), i * width);
    y[i] = data.y[r] as number;
  }
  return { x, y, rows: indices.length, featureNames: data.featureNames };
}
