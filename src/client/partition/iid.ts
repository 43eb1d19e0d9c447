import { createSeededRng, shuffleInPlace } from '../../protocol/seededRng.js';
import { apportion, checkClientCount, cutInto, type Partition } from './partition.js';

/** Options of iidPartition. */
export interface IidPartitionOptions {
  /** Number of clients. */
  readonly clients: number;
  /** Seeds the shuffle. */
  readonly seed: number;
}

/**
 * IID: a uniformly random permutation of the rows cut into `clients` parts whose sizes differ by at most
 * one (the first `rows % clients` clients get the extra row). Every client sees the global label mix in
 * expectation: the baseline every non-IID experiment is compared with.
 */
export function iidPartition(rows: number, options: IidPartitionOptions): Partition {
  checkClientCount(options.clients, rows);
  const order = shuffleInPlace(
    Array.from({ length: rows }, (_, i) => i),
    createSeededRng(options.seed),
  );
  return cutInto(order, apportion(rows, new Array<number>(options.clients).fill(1)));
}
