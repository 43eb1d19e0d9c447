import { createSeededRng, shuffleInPlace } from '../../protocol/seededRng.js';
import { apportion, checkClientCount, checkMinSize, cutInto, type Partition } from './partition.js';

/** Options of sizePartition: each client's share of the rows. */
export interface SizePartitionOptions {
  /** Each client's share of the rows, in client order: positive, summing to 1 (within 1e-6). */
  readonly fractions: readonly number[];
  /** Seeds the shuffle. */
  readonly seed: number;
  /** Every client must get at least this many rows; default 1. */
  readonly minSize?: number;
}

/** Options of powerLawPartition: client sizes that fall off as a power law. */
export interface PowerLawPartitionOptions {
  /** Number of clients. */
  readonly clients: number;
  /** Client i (from 0) gets a share proportional to (i + 1)^-exponent: 0 is equal sizes, 1 is Zipf's law. */
  readonly exponent: number;
  /** Seeds the shuffle. */
  readonly seed: number;
  /** Every client gets at least this many rows (set aside first, the rest follows the power law); default 1. */
  readonly minSize?: number;
}

/** Quantity skew with given shares: a random permutation of the rows cut to the apportioned sizes. */
export function sizePartition(rows: number, options: SizePartitionOptions): Partition {
  const { fractions } = options;
  const minSize = options.minSize ?? 1;
  checkClientCount(fractions.length, rows);
  checkMinSize(minSize, fractions.length, rows);
  fractions.forEach((f, i) => {
    if (!(f > 0 && Number.isFinite(f))) throw new RangeError(`fraction ${i} is ${f}; every fraction must be positive`);
  });
  const sum = fractions.reduce((s, f) => s + f, 0);
  if (Math.abs(sum - 1) > 1e-6) throw new RangeError(`the fractions sum to ${sum}, not 1`);
  const sizes = apportion(rows, fractions);
  sizes.forEach((size, i) => {
    if (size < minSize) throw new RangeError(`client ${i}'s fraction ${fractions[i]} of ${rows} rows gives ${size} row(s), fewer than minSize ${minSize}`);
  });
  return shuffledCut(rows, sizes, options.seed);
}

/**
 * Quantity skew following a power law, as in FedProx's synthetic federations (Li et al. 2020): client 0 is
 * the largest, and sizes fall as (i + 1)^-exponent. Rows are assigned at random.
 */
export function powerLawPartition(rows: number, options: PowerLawPartitionOptions): Partition {
  const { clients, exponent } = options;
  const minSize = options.minSize ?? 1;
  checkClientCount(clients, rows);
  checkMinSize(minSize, clients, rows);
  if (!(exponent >= 0 && Number.isFinite(exponent))) throw new RangeError(`exponent must be non-negative and finite, got ${exponent}`);
  const weights = Array.from({ length: clients }, (_, i) => (i + 1) ** -exponent);
  const sizes = apportion(rows - clients * minSize, weights).map((n) => n + minSize);
  return shuffledCut(rows, sizes, options.seed);
}

function shuffledCut(rows: number, sizes: readonly number[], seed: number): Partition {
  const order = shuffleInPlace(
    Array.from({ length: rows }, (_, i) => i),
    createSeededRng(seed),
  );
  return cutInto(order, sizes);
}
