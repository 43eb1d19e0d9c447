/**
 * cohort-fl/coordinator: running a federation from the researcher's side. The coordinator and its options, the
 * strategy catalogue and the Strategy contract, the aggregators that strategies compose, the run store, the
 * dashboard and metrics, and the access list, identities and audit log that guard a run.
 *
 * @module cohort-fl/coordinator
 */
import './requireSupportedNode.js';

// The coordinator and what a run gives back
export { Coordinator } from '../coordinator/coordinator.js';
export { RunError, type CoordinatorOptions, type PrivacyOptions, type RunResult } from '../coordinator/coordinatorOptions.js';
export type { DataSchema, FeatureColumn, LabelColumn } from '../protocol/dataSchema.js';
export type { CoordinatorEventMap } from '../coordinator/coordinatorEvents.js';
export type { ClientOutcome, RoundRecord } from '../coordinator/roundRecord.js';
export type { HttpHandler, TlsOptions } from '../coordinator/httpEndpoint.js';
export { DEFAULT_CHUNK_BYTES, type PeerOptions } from '../protocol/peer.js';

// Strategies: the contract and the catalogue (one algorithm per file, each citing its paper)
export type {
  ClientSummary,
  EvaluateReport,
  EvaluateTask,
  EvaluationSummary,
  FailureReason,
  FitInstructions,
  FitPayloadShape,
  FitReport,
  FitTask,
  Metrics,
  Strategy,
  StrategyCapabilities,
  TaskFailure,
} from '../coordinator/strategy.js';
export { MODES, modesFor, type SecureModeName, type SecAggPlusOptions } from '../modes/index.js';
export type { CompressionOptions } from '../protocol/compression.js';
export { FedAvg, StrategyConfigError, type FedAvgOptions } from '../coordinator/strategies/fedAvg.js';
export { FedAvgM, type FedAvgMOptions, type FedAvgMState } from '../coordinator/strategies/fedAvgM.js';
export { FedProx, type FedProxOptions } from '../coordinator/strategies/fedProx.js';
export type { AdaptiveFedOptOptions, AdaptiveFedOptState, AdaptiveHyperparameters } from '../coordinator/strategies/adaptiveFedOpt.js';
export { FedAdam } from '../coordinator/strategies/fedAdam.js';
export { FedYogi } from '../coordinator/strategies/fedYogi.js';
export { FedAdagrad, type FedAdagradOptions } from '../coordinator/strategies/fedAdagrad.js';
export { FedMedian } from '../coordinator/strategies/fedMedian.js';
export { FedTrimmedAvg, type FedTrimmedAvgOptions } from '../coordinator/strategies/fedTrimmedAvg.js';
export { Krum, type KrumOptions } from '../coordinator/strategies/krum.js';
export { Bulyan, type BulyanOptions } from '../coordinator/strategies/bulyan.js';
export { Scaffold, type ScaffoldOptions, type ScaffoldState } from '../coordinator/strategies/scaffold.js';

// Aggregators, composed by wrapping: DpMean clips and noises around the streaming mean
export type { AggregateNeeds, AggregateResult, AggregationRound, Aggregator, UpdateSink } from '../coordinator/aggregation/aggregator.js';
export { AggregationError, FILE_STAGING_MIN_PARAMETERS, StreamingMean, type StreamingMeanOptions } from '../coordinator/aggregation/streamingMean.js';
export { DpMean, type DpMeanOptions, type DpMeasurements } from '../coordinator/aggregation/dpMean.js';
export { withClipNorm, type ClipNormStrategyState } from '../coordinator/aggregation/clipNormStrategy.js';
export type { CollectAll, CollectedAggregateResult, CollectedUpdate, CollectingRound } from '../coordinator/aggregation/collectAll.js';
export type { UniformWeights } from '../coordinator/aggregation/uniformWeights.js';

// The run store: runs, rounds and checkpoints in one SQLite file
export { RunStore, StoreError, type Checkpoint, type RunRow, type RunStatus as StoredRunStatus } from '../coordinator/store/runStore.js';
export type { EncryptedCheckpoint } from '../coordinator/store/encryptedCheckpoint.js';
export type { EncryptedLayout } from '../protocol/encryptedLayout.js';

// Observability: Prometheus metrics and the live dashboard, with the JSON its API serves
export {
  attachDashboard,
  attachMetrics,
  attachObservability,
  ObservabilityServer,
  type Better,
  type ClientValue,
  type ObserverAccess,
  type RunObserver,
  type RunObserverOptions,
  type ClientDrift,
  type ClientEvaluation,
  type ClientRow,
  type CoordinatorMetrics,
  type Dashboard,
  type DashboardOptions,
  type DashboardSnapshot,
  type DashboardUpdate,
  type DashboardUpdateMap,
  type DriftValue,
  type DroppedClient,
  type FairnessMetric,
  type FairnessSnapshot,
  type MetricSpread,
  type MetricsOptions,
  type Observability,
  type ObservabilityOptions,
  type ObservedCoordinator,
  type PrivacyBudget,
  type RoundFairness,
  type RoundView,
  type RunPhase,
  type RunStatus,
} from '../coordinator/observability/index.js';

// Access, identities and the audit trail
export { AccessList, type AccessDecision, type AllowedPeer, type Role } from '../coordinator/accessList.js';
export type { AuditChainHead, AuditTrail } from '../coordinator/auditTrail.js';
export { AuditLog, type AuditLogOptions } from '../crypto/auditLog.js';
export type { AuditEntry } from '../crypto/auditEntry.js';
export type { AuditSigner, AuditVerify } from '../crypto/auditSigner.js';
export type { JsonObject, JsonPrimitive, JsonValue } from '../crypto/canonicalJson.js';
export { verifyAuditLog, type AuditProblem, type AuditProblemKind, type AuditVerifyOptions, type AuditVerifyResult } from '../crypto/verifyAuditLog.js';
export { generateIdentity, identityFromBase64, keyFingerprint, publicKeyFromBase64, type Identity } from '../crypto/identity.js';
export { readSecretKeyFile, writeSecretKeyFile } from '../crypto/keyFile.js';

// Weights as they travel: named float32 tensors
export type { NamedTensor, TensorSpec, Weights } from '../protocol/tensors.js';
export { specOf, totalParameters } from '../protocol/tensors.js';
export { COHORT_VERSION, PROTOCOL_VERSION } from '../protocol/version.js';
