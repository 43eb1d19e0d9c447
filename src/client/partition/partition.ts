/**
 * Shared pieces of the partitioners: the result type, argument checks and integer apportionment.
 * A partition lists, for each simulated client, the row indices (into the partitioned table) it holds;
 * every partitioner assigns every row to exactly one client.
 */
export type Partition = number[][];

/** The minimum-size guarantee could not be met within the allowed number of attempts. */
export class PartitionError extends Error {
  /** Always `PartitionError`. */
  override readonly name = 'PartitionError';
}

export function checkClientCount(clients: number, rows: number): void {
  if (!Number.isInteger(clients) || clients < 1) throw new RangeError(`the number of clients must be a positive integer, got ${clients}`);
  if (clients > rows) throw new RangeError(`cannot give each of ${clients} clients a row: the data has only ${rows} rows`);
}

export function checkMinSize(minSize: number, clients: number, rows: number): void {
  if (!Number.isInteger(minSize) || minSize < 0) throw new RangeError(`minSize must be a non-negative integer, got ${minSize}`);
  if (clients * minSize > rows) {
    throw new RangeError(`${clients} clients x minSize ${minSize} = ${clients * minSize} rows, but the data has only ${rows}`);
  }
}

/** Class labels must be class indices: non-negative integers. Returns the row indices of each class, by label. */
export function rowsByClass(labels: ArrayLike<number>): Map<number, number[]> {
  const classes = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0) throw new RangeError(`row ${i} has label ${label}; expected a class index (a non-negative integer)`);
    const rows = classes.get(label);
    if (rows === undefined) classes.set(label, [i]);
    else rows.push(i);
  }
  return classes;
}

/**
 * Splits `total` items in proportion to positive `weights` (Hamilton's largest-remainder method): each gets
 * the floor of its quota, and the items left go one each to the largest remainders (ties: lower index).
 * The sizes sum to `total` exactly.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  if (!(sum > 0 && Number.isFinite(sum))) throw new RangeError('apportionment weights must be finite with a positive sum');
  const quotas = weights.map((w) => (w / sum) * total);
  const sizes = quotas.map((q) => Math.floor(q));
  let left = total - sizes.reduce((s, n) => s + n, 0);
  const order = quotas.map((q, i) => ({ i, remainder: q - Math.floor(q) })).sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  // Floating-point quotas can leave up to `weights.length` items, so cycle through the order.
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) {
    const i = order[k]!.i;
    sizes[i] = sizes[i]! + 1;
  }
  return sizes;
}

/** Cuts `items` into consecutive runs of the given sizes (which must sum to its length). */
export function cutInto(items: readonly number[], sizes: readonly number[]): Partition {
  const parts: Partition = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(items.slice(at, at + size));
    at += size;
  }
  if (at !== items.length) throw new Error(`sizes sum to ${at}, not ${items.length}`);
  return parts;
}
