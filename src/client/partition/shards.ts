import { createSeededRng, shuffleInPlace } from '../../protocol/seededRng.js';
import { apportion, checkClientCount, cutInto, type Partition } from './partition.js';

/** Options of shardPartition: McMahan et al.'s label-sorted shards. */
export interface ShardPartitionOptions {
  /** Number of clients. */
  readonly clients: number;
  /** Seeds the shard assignment. */
  readonly seed: number;
  /** Shards per client; default 2, as in the paper. */
  readonly shardsPerClient?: number;
}

/**
 * The pathological non-IID split of McMahan et al. 2017 ("Communication-efficient learning of deep networks
 * from decentralized data", section 3): sort the rows by label, cut them into clients x shardsPerClient
 * equal shards, and give each client shardsPerClient shards at random. With 2 shards per client and classes
 * whose sizes are multiples of the shard size, a client holds at most 2 labels (MNIST: 200 shards of 300).
 * Rows of one class are shuffled before sorting, so which rows form a shard is random too.
 */
export function shardPartition(labels: ArrayLike<number>, options: ShardPartitionOptions): Partition {
  const rows = labels.length;
  const perClient = options.shardsPerClient ?? 2;
  checkClientCount(options.clients, rows);
  if (!Number.isInteger(perClient) || perClient < 1) throw new RangeError(`shardsPerClient must be a positive integer, got ${perClient}`);
  const shardCount = options.clients * perClient;
  if (shardCount > rows) throw new RangeError(`${options.clients} clients x ${perClient} shards = ${shardCount} shards, but the data has only ${rows} rows`);
  for (let i = 0; i < rows; i++) {
    if (!Number.isFinite(labels[i])) throw new RangeError(`row ${i} has label ${labels[i]}; shards need finite labels to sort by`);
  }

  const rng = createSeededRng(options.seed);
  // Array.prototype.sort is stable, so the shuffled order survives within each label.
  const sorted = shuffleInPlace(
    Array.from({ length: rows }, (_, i) => i),
    rng,
  ).sort((a, b) => (labels[a] as number) - (labels[b] as number));
  const shards = cutInto(sorted, apportion(rows, new Array<number>(shardCount).fill(1)));
  const dealt = shuffleInPlace(
    Array.from({ length: shardCount }, (_, i) => i),
    rng,
  );
  return Array.from({ length: options.clients }, (_, c) =>
    shuffleInPlace(
      dealt.slice(c * perClient, (c + 1) * perClient).flatMap((s) => shards[s]!),
      rng,
    ),
  );
}
