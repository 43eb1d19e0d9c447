/**
 * cohort-fl: what a newcomer needs to run a coordinator, plug a training loop into a client, and train with tfjs.
 * Everything else is under the subpaths: cohort-fl/coordinator (strategies, aggregators, store, dashboard, access),
 * cohort-fl/client (trainers, models, backends, data), cohort-fl/privacy (accounting, noise, clipping) and
 * cohort-fl/simulation (in-process federations, partitioners, Byzantine clients).
 *
 * @module cohort-fl
 */
import './entries/requireSupportedNode.js';

export { Coordinator } from './coordinator/coordinator.js';
export { RunError, type CoordinatorOptions, type RunResult } from './coordinator/coordinatorOptions.js';
export type { RoundRecord } from './coordinator/roundRecord.js';
export type { Strategy } from './coordinator/strategy.js';
export { FedAvg, type FedAvgOptions } from './coordinator/strategies/fedAvg.js';

export { startClient } from './client/clientNode.js';
export type { ClientHandle, ClientOptions } from './client/clientOptions.js';
export type { Trainer, TrainerDescription, FitConfig, EvaluateConfig, FitOutcome, EvaluateOutcome, Metrics } from './client/trainer.js';
export { TfjsTrainer, type TfjsTrainerOptions } from './client/tfjsTrainer.js';
export { selectBackend } from './client/backend/selectBackend.js';
export { loadCsvData } from './client/data/loadCsvData.js';

export type { NamedTensor, Weights } from './protocol/tensors.js';
