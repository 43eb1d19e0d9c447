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

/** A corrected fit's outcome: what SCAFFOLD's option II needs to estimate the client's drift. */
export interface CorrectedFitOutcome extends FitOutcome {
  /** K: the optimizer steps actually taken this round (>= 1). */
  readonly steps: number;
  /** eta_l: the plain-SGD learning rate every one of those steps used. */
  readonly learningRate: number;
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
  /**
   * Optional (SCAFFOLD, Karimireddy et al. 2020): like `fit`, but with plain SGD whose every step adds the
   * constant `correction` (c - c_i, shaped like getWeights()) to the gradient: y <- y - eta_l (g(y) + correction).
   * A trainer that cannot (another optimizer, DP-SGD) throws saying why; one without it cannot take SCAFFOLD tasks.
   */
  fitWithCorrection?(config: FitConfig, correction: Weights): Promise<CorrectedFitOutcome>;
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
