/**
 * cohort-fl/client: a client node next to a hospital's data. The node and its options, the Trainer contract and the
 * tfjs trainer, models and backends, CSV loading and splitting, and example-level DP-SGD for the tfjs trainer.
 *
 * @module cohort-fl/client
 */
import './requireSupportedNode.js';

// The client node
export { startClient } from '../client/clientNode.js';
export type { ClientEvent, ClientHandle, ClientOptions, SimulationHooks } from '../client/clientOptions.js';
export type { Retry, RetryCause } from '../client/node/reconnect.js';
export type { ClientSecurityPolicy, AcceptedRisk, SecureModeRequirement, SecAggPlusFloors } from '../client/security/securityPolicy.js';
export type { RosterEntry } from '../client/security/roster.js';
export type { FeatureScaler } from '../client/featureScaler.js';
export type { DataSchema, FeatureColumn, LabelColumn } from '../protocol/dataSchema.js';
export { DEFAULT_CHUNK_BYTES, type PeerOptions } from '../protocol/peer.js';

// Training: the Trainer contract, the tfjs trainer, models built from a spec
export type {
  CorrectedFitOutcome,
  EvaluateConfig,
  EvaluateOutcome,
  FitConfig,
  FitOutcome,
  Metrics,
  Trainer,
  TrainerDescription,
} from '../client/trainer.js';
export { TfjsTrainer, type LabelledTensors, type ExampleSource, type ExampleBatch, type TfjsLoss, type TfjsOptimizerName, type TfjsTrainerOptions } from '../client/tfjsTrainer.js';
export { createImageTrainer, type ImageTrainerOptions } from '../client/imageTrainer.js';
export { createTabularNode, createTabularTrainer, type TabularTrainerOptions } from '../client/tabularTrainer.js';
export { TabularScaler } from '../client/tabularScaler.js';
export { buildModel, buildModelAsync, lossFor } from '../client/model/buildModel.js';
export { modelSpecSchema, type ModelSpec } from '../client/model/modelSpec.js';
export { layersModelSpecSchema, type LayersModelSpec, type LayerSpec, type PlainLayerSpec, type ResidualSpec } from '../client/model/layerSpec.js';
export { readModelFile, modelFromJson, checkModelPin, type ModelFileSpec } from '../client/model/modelFile.js';
export { readModelWeights, writeModelWeights } from '../client/model/modelWeights.js';

// Example-level DP-SGD (Abadi et al. 2016) inside the tfjs trainer
export { perExampleLoss, privateGradients, type DpSgdOptions, type PerExampleLoss, type PrivateGradientInput, type PrivateGradients } from '../client/dpSgd.js';
export { planDpSgd, type DpSgdPlan, type DpSgdRequest, type DpSgdRun } from '../client/dpSgdPlan.js';

// tfjs backends: the first that works, or the one the config or COHORT_BACKEND forces
export {
  BACKEND_ENV_VAR,
  BACKEND_NAMES,
  BACKEND_PREFERENCES,
  parseBackendPreference,
  selectBackend,
  type BackendAttempt,
  type BackendLoader,
  type BackendName,
  type BackendPreference,
  type BackendSelection,
  type SelectBackendOptions,
} from '../client/backend/index.js';

// Data: CSV files as tables, split and standardized the same way at every site
export {
  applyPublicScaling,
  applyStandardization,
  csvDataConfigSchema,
  DataError,
  featureCount,
  fitStandardization,
  loadCsvData,
  parseCsvDataConfig,
  splitIndices,
  standardizeTrainTest,
  takeRows,
  testSizeFor,
  trainTestSplit,
  type CategoricalEncoding,
  type CsvDataConfig,
  type CsvDataConfigInput,
  type CsvDataMeta,
  type DataErrorLocation,
  type LabelTransform,
  type LoadedCsvData,
  type PublicFeatureScale,
  type PublicScalingInput,
  type PublicScalingReport,
  type SplitIndices,
  type SplitOptions,
  type Standardization,
  type TabularData,
  type TrainTest,
} from '../client/data/index.js';
// Image data: PNG, JPEG and DICOM files, by folder per class or manifest.
export { loadImageData, imageBatches, imageDataConfigSchema, readImage, ImageError, openImageData, ImageSource, type ImageDataConfig, type ImageEntry, type ImageSplit, type ImageSourceStats, type ImageSourceOptions } from '../client/data/images/index.js';

// Identities: the node's own key and the coordinator's, pinned
export { generateIdentity, identityFromBase64, keyFingerprint, publicKeyFromBase64, type Identity } from '../crypto/identity.js';
export { readSecretKeyFile, writeSecretKeyFile } from '../crypto/keyFile.js';

// Weights as they travel: named float32 tensors
export type { NamedTensor, TensorSpec, Weights } from '../protocol/tensors.js';
export { specOf, totalParameters } from '../protocol/tensors.js';
