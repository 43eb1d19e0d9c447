// Non-IID partitioners for simulations: the public surface of src/client/partition.
export { PartitionError, type Partition } from './partition.js';
export { iidPartition, type IidPartitionOptions } from './iid.js';
export { dirichletPartition, type DirichletPartitionOptions } from './dirichlet.js';
export { shardPartition, type ShardPartitionOptions } from './shards.js';
export { sizePartition, powerLawPartition, type SizePartitionOptions, type PowerLawPartitionOptions } from './bySize.js';
export { labelHistogram, labelSkew, meanLabelSkew, describeLabelCounts } from './labelHistogram.js';
export {
  partitionSpecSchema,
  partitionClientCount,
  partitionRows,
  splitTable,
  type PartitionSpec,
  type PartitionSpecInput,
} from './partitionSpec.js';
