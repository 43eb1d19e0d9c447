/**
 * cohort-fl/simulation: a whole federation in one process before going live. simulate() runs an experiment config
 * with real sockets on loopback; the partitioners split one dataset over virtual clients (non-IID on purpose);
 * Byzantine trainers send malicious updates to test the robust strategies; the seeded generator makes it repeatable.
 *
 * @module cohort-fl/simulation
 */
import './requireSupportedNode.js';

export { simulate, type SimulationOptions, type SimulationResult } from '../cli/simulate.js';
export { experimentConfigSchema, type ExperimentConfig, type ExperimentConfigInput } from '../cli/config/experimentConfig.js';
export { createStrategy } from '../cli/createStrategy.js';

export {
  describeLabelCounts,
  dirichletPartition,
  iidPartition,
  labelHistogram,
  labelSkew,
  meanLabelSkew,
  partitionClientCount,
  PartitionError,
  partitionRows,
  partitionSpecSchema,
  powerLawPartition,
  shardPartition,
  sizePartition,
  splitTable,
  type DirichletPartitionOptions,
  type IidPartitionOptions,
  type Partition,
  type PartitionSpec,
  type PartitionSpecInput,
  type PowerLawPartitionOptions,
  type ShardPartitionOptions,
  type SizePartitionOptions,
} from '../client/partition/index.js';
export {
  byzantineAttackSchema,
  byzantineClients,
  byzantineSpecSchema,
  ByzantineTrainer,
  maliciousDelta,
  type ByzantineAttack,
  type ByzantineSpec,
} from '../client/byzantine/index.js';

export { dropoutSchedule, type DropoutSchedule, type DropoutScheduleOptions, type DropoutStep, type LeaveAt, type RoundDropouts } from '../client/dropouts/index.js';
export { createSeededRng, mixSeed, shuffleInPlace, type SeededRng } from '../protocol/seededRng.js';
