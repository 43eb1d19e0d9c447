// The public API of cohort-fl. Examples and custom trainers import from here only.
import './entries/requireSupportedNode.js';

// Protocol and tensors
export type { NamedTensor, Weights, TensorSpec } from './protocol/tensors.js';
export { sizeOfShape, specOf, totalParameters, specMismatch } from './protocol/tensors.js';
export { encodeWeights, decodeWeights, encodeWeightsChunks, encodedByteLength, TensorStreamDecoder, WeightsCollector, CodecError } from './protocol/tensorCodec.js';
export { PROTOCOL_VERSION, COHORT_VERSION } from './protocol/version.js';
export { DEFAULT_CHUNK_BYTES, type PeerOptions } from './protocol/peer.js';
export { createSeededRng, shuffleInPlace, mixSeed, type SeededRng } from './protocol/seededRng.js';

// Coordinator
export { Coordinator, RunError, type CoordinatorOptions, type RunResult } from './coordinator/coordinator.js';
export type { RoundRecord, ClientOutcome } from './coordinator/roundRecord.js';
export type {
  Strategy,
  ClientSummary,
  FitInstructions,
  FitTask,
  EvaluateTask,
  FitReport,
  EvaluateReport,
  EvaluationSummary,
  TaskFailure,
  FailureReason,
  FitPayloadShape,
} from './coordinator/strategy.js';
export { fitPayloadShape } from './coordinator/strategy.js';
export { FedAvg, StrategyConfigError, type FedAvgOptions } from './coordinator/strategies/fedAvg.js';
export { Scaffold, scaffoldServerUpdate, type ScaffoldOptions, type ScaffoldState } from './coordinator/strategies/scaffold.js';
export { SCAFFOLD_CONTROL_PREFIX, SCAFFOLD_EXTRA_KEY, scaffoldSpec, joinScaffold, splitScaffold } from './protocol/scaffoldWire.js';
export type { Aggregator, AggregationRound, AggregateResult, UpdateSink } from './coordinator/aggregation/aggregator.js';
export { StreamingMean, AggregationError, type StreamingMeanOptions } from './coordinator/aggregation/streamingMean.js';
export * from './coordinator/observability/index.js';
export { AccessList, type AllowedPeer, type Role } from './coordinator/accessList.js';
export type { AuditTrail } from './coordinator/auditTrail.js';
export type { CoordinatorEventMap } from './coordinator/coordinatorEvents.js';
export { RunStore, StoreError, type RunRow, type Checkpoint } from './coordinator/store/runStore.js';
export { generateIdentity, sign, verify, keyFingerprint, publicKeyFromBase64, identityFromBase64, type Identity } from './crypto/identity.js';
export { readSecretKeyFile, writeSecretKeyFile } from './crypto/keyFile.js';
export { AuditLog } from './crypto/auditLog.js';
export { verifyAuditLog } from './crypto/verifyAuditLog.js';
export {
  RdpAccountant,
  initialRdpState,
  rdpStep,
  rdpEpsilon,
  rdpWouldExceed,
  parseRdpState,
  type RdpState,
  type RdpLedgerEntry,
  type PrivacyBudget as DpBudget,
  type BudgetCheck,
} from './privacy/rdpAccountant.js';
export { epsilonFromRdp, type RdpConversion } from './privacy/rdpConversion.js';
export { noiseMultiplierForEpsilon } from './privacy/rdpNoiseMultiplier.js';
export { DEFAULT_RDP_ORDERS } from './privacy/rdpOrders.js';
export { fillGaussian, gaussian } from './privacy/gaussianNoise.js';
export { poissonSubsample } from './privacy/poissonSampling.js';
export { updateNoiseMultiplier, nextClipNorm, parseAdaptiveClipState, type AdaptiveClipping, type AdaptiveClipState } from './privacy/adaptiveClipping.js';
export { DpMean, PRE_CLIPPED_MARGIN, type DpMeanOptions, type DpMeasurements } from './coordinator/aggregation/dpMean.js';
export { withClipNorm, type ClipNormStrategyState } from './coordinator/aggregation/clipNormStrategy.js';

// Client
export { startClient, type ClientOptions, type ClientHandle, type ClientEvent } from './client/clientNode.js';
export type { Trainer, TrainerDescription, FitConfig, EvaluateConfig, FitOutcome, CorrectedFitOutcome, EvaluateOutcome, Metrics } from './client/trainer.js';
export { TfjsTrainer, type TfjsTrainerOptions, type TfjsLoss, type TfjsOptimizerName, type LabelledTensors } from './client/tfjsTrainer.js';
export { privateGradients, perExampleLoss, type DpSgdOptions, type PerExampleLoss } from './client/dpSgd.js';
export { planDpSgd, type DpSgdRequest, type DpSgdRun, type DpSgdPlan } from './client/dpSgdPlan.js';
export { createTabularNode, createTabularTrainer } from './client/tabularTrainer.js';
export { buildModel, lossFor } from './client/model/buildModel.js';
export { modelSpecSchema, type ModelSpec } from './client/model/modelSpec.js';
export { readModelWeights, writeModelWeights } from './client/model/modelWeights.js';
export * from './client/backend/index.js';
export * from './client/data/index.js';

// Simulation and configs
export { simulate, type SimulationOptions, type SimulationResult } from './cli/simulate.js';
export { experimentConfigSchema, type ExperimentConfig, type ExperimentConfigInput } from './cli/config/experimentConfig.js';
export { createStrategy } from './cli/createStrategy.js';
export * from './client/partition/index.js';
export * from './client/byzantine/index.js';
