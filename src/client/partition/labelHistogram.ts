import type { Partition } from './partition.js';

/** Rows of each class held by each client: `counts[client][class]`. */
export function labelHistogram(labels: ArrayLike<number>, partition: Partition, numClasses: number): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  return partition.map((rows, client) => {
    const counts = new Array<number>(numClasses).fill(0);
    for (const r of rows) {
      const label = labels[r];
      if (label === undefined) throw new RangeError(`client ${client} holds row ${r}, outside 0..${labels.length - 1}`);
      if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
        throw new RangeError(`row ${r} has label ${label}, not a class index in 0..${numClasses - 1}`);
      }
      counts[label] = counts[label]! + 1;
    }
    return counts;
  });
}

/**
 * Each client's total-variation distance, in [0, 1], between its label distribution and that of all the
 * partitioned rows together: half the L1 distance. 0 is IID; 1 - p_k for a client holding only class k.
 * NaN for a client with no rows.
 */
export function labelSkew(histogram: readonly (readonly number[])[]): number[] {
  const classes = histogram[0]?.length ?? 0;
  const global = new Array<number>(classes).fill(0);
  for (const counts of histogram) counts.forEach((n, k) => (global[k] = global[k]! + n));
  const total = global.reduce((s, n) => s + n, 0);
  return histogram.map((counts) => {
    const rows = counts.reduce((s, n) => s + n, 0);
    if (rows === 0 || total === 0) return NaN;
    return 0.5 * counts.reduce((s, n, k) => s + Math.abs(n / rows - global[k]! / total), 0);
  });
}

/** Mean of `labelSkew` over the clients that hold rows: one number for how non-IID a partition is. */
export function meanLabelSkew(histogram: readonly (readonly number[])[]): number {
  const skews = labelSkew(histogram).filter((d) => !Number.isNaN(d));
  return skews.length === 0 ? NaN : skews.reduce((s, d) => s + d, 0) / skews.length;
}

/** One client's line for a simulation's log: `412 rows; labels 0:40 2:13 7:359` (classes it lacks omitted). */
export function describeLabelCounts(counts: readonly number[]): string {
  const rows = counts.reduce((s, n) => s + n, 0);
  const held = counts.flatMap((n, k) => (n > 0 ? [`${k}:${n}`] : []));
  return `${rows} rows; ${held.length} of ${counts.length} labels ${held.join(' ')}`;
}
