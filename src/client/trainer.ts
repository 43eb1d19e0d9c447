import type { Weights } from '../protocol/tensors.js';

/** Per-round training instructions, decided by the coordinator's strategy. */
export interface FitConfig {
  readonly round: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Optional cap on optimizer steps (batches) this round, as FLamby counts "local steps". */
  readonly maxSteps?: number;
  /** Strategy-specific extras (numbers, strings or booleans only: they travel as JSON). */
  readonly extra?: Readonly<Record<string, number | string | boolean>>;
}

export interface EvaluateConfig {
  readonly round: number;
  readonly batchSize: number;
}

export type Metrics = Readonly<Record<string, number>>;

export interface FitOutcome {
  /** Training examples used this round: FedAvg's weight. */
  readonly numExamples: number;
  readonly metrics: Metrics;
}

export interface EvaluateOutcome {
  readonly numExamples: number;
  readonly loss: number;
  readonly metrics: Metrics;
}

/**
 * The seam between a client node and training code. TfjsTrainer implements it for any tfjs LayersModel;
 * a custom training loop implements it directly.
 */
export interface Trainer {
  getWeights(): Weights | Promise<Weights>;
  setWeights(weights: Weights): void | Promise<void>;
  fit(config: FitConfig): Promise<FitOutcome>;
  evaluate(config: EvaluateConfig): Promise<EvaluateOutcome>;
  /** Counts announced to the coordinator at connect time. */
  describe(): TrainerDescription;
}

export interface TrainerDescription {
  readonly numTrainExamples: number;
  readonly numTestExamples: number;
  /** The tfjs backend (or other engine) doing the work, for the coordinator's status table. */
  readonly backend: string;
  /** Fingerprint of the data's schema (e.g. SHA-256 of the feature names) for the run's manifest; never data. */
  readonly datasetFingerprint?: string;
}
