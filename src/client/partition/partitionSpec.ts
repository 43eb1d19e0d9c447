import { z } from 'zod';
import { takeRows, type TabularData } from '../data/tabular.js';
import { powerLawPartition, sizePartition } from './bySize.js';
import { dirichletPartition } from './dirichlet.js';
import { iidPartition } from './iid.js';
import type { Partition } from './partition.js';
import { shardPartition } from './shards.js';

const clients = z.number().int().min(1);
const minSize = z.number().int().min(0);

/** How a simulation splits one dataset over virtual clients; the seed comes from the experiment. */
export const partitionSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('iid'), clients }),
  z.strictObject({
    type: z.literal('dirichlet'),
    clients,
    alpha: z.number().positive(),
    minSize: minSize.default(10),
    selfBalancing: z.boolean().default(true),
    maxAttempts: z.number().int().min(1).default(11),
  }),
  z.strictObject({ type: z.literal('shards'), clients, shardsPerClient: z.number().int().min(1).default(2) }),
  z.strictObject({ type: z.literal('size'), fractions: z.array(z.number().positive()).min(1), minSize: minSize.default(1) }),
  z.strictObject({ type: z.literal('power-law'), clients, exponent: z.number().min(0), minSize: minSize.default(1) }),
]);
/** How a simulation splits one data set over its virtual clients (iid, dirichlet, shards, size, power-law), as parsed. */
export type PartitionSpec = z.infer<typeof partitionSpecSchema>;
/** A partition spec as written, before defaults. */
export type PartitionSpecInput = z.input<typeof partitionSpecSchema>;

/** The number of clients a spec produces. */
export function partitionClientCount(spec: PartitionSpec): number {
  return spec.type === 'size' ? spec.fractions.length : spec.clients;
}

/** Runs the partitioner a spec names over a table's labels (their count is the number of rows). */
export function partitionRows(spec: PartitionSpec, labels: ArrayLike<number>, seed: number): Partition {
  switch (spec.type) {
    case 'iid':
      return iidPartition(labels.length, { clients: spec.clients, seed });
    case 'dirichlet':
      return dirichletPartition(labels, { ...spec, seed });
    case 'shards':
      return shardPartition(labels, { ...spec, seed });
    case 'size':
      return sizePartition(labels.length, { ...spec, seed });
    case 'power-law':
      return powerLawPartition(labels.length, { ...spec, seed });
  }
}

/** One table per client, holding that client's rows (copies). */
export function splitTable(data: TabularData, partition: Partition): TabularData[] {
  return partition.map((rows) => takeRows(data, rows));
}
