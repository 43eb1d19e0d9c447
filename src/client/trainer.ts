import type { Weights } from '../protocol/tensors.js';

/** Per-round training instructions, decided by the coordinator's strategy. */
export interface FitConfig {
  /** The round being trained, from 1. */
  readonly round: number;
  /** Local epochs over the training rows. */
  readonly epochs: number;
  /** Examples per optimizer step. */
  readonly batchSize: number;
  /** The optimizer's learning rate. */
  readonly learningRate: number;
  /** Optional cap on optimizer steps (batches) this round, as FLamby counts "local steps". */
  readonly maxSteps?: number;
  /** Strategy-specific extras (numbers, strings or booleans only: they travel as JSON). */
  readonly extra?: Readonly<Record<string, number | string | boolean>>;
}

/** Per-round evaluation instructions. */
export interface EvaluateConfig {
  /** The round whose global model is evaluated. */
  readonly round: number;
  /** Examples per evaluation batch (memory, not results). */
  readonly batchSize: number;
}

/** Named numbers reported to the coordinator (`loss`, `accuracy`...). */
export type Metrics = Readonly<Record<string, number>>;

/** What a fit reports; the update itself is read with `getWeights()`. */
export interface FitOutcome {
  /** Training examples used this round: FedAvg's weight. */
  readonly numExamples: number;
  /** Training metrics (loss, accuracy, time). */
  readonly metrics: Metrics;
}

/** A corrected fit's outcome: what SCAFFOLD's option II needs to estimate the client's drift. */
export interface CorrectedFitOutcome extends FitOutcome {
  /** K: the optimizer steps actually taken this round (>= 1). */
  readonly steps: number;
  /** eta_l: the plain-SGD learning rate every one of those steps used. */
  readonly learningRate: number;
}

/** An evaluation of the current weights on the held-out rows. */
export interface EvaluateOutcome {
  /** Rows evaluated: this report's weight in the round's mean. */
  readonly numExamples: number;
  /** The loss over those rows. */
  readonly loss: number;
  /** Further metrics (`accuracy` is the one the dashboard and fairness follow). */
  readonly metrics: Metrics;
}

/**
 * The seam between a client node and training code. TfjsTrainer implements it for any tfjs LayersModel;
 * a custom training loop implements it directly.
 */
export interface Trainer {
  /** The current model weights, named as the coordinator's model names them. */
  getWeights(): Weights | Promise<Weights>;
  /** Replaces the model's weights with the round's global model. */
  setWeights(weights: Weights): void | Promise<void>;
  /** Trains locally from the weights last set, as `config` says. */
  fit(config: FitConfig): Promise<FitOutcome>;
  /** Evaluates the weights last set on the held-out rows. */
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

/** What a trainer announces about itself and its data when it connects. */
export interface TrainerDescription {
  /** Training rows. */
  readonly numTrainExamples: number;
  /** Held-out rows. */
  readonly numTestExamples: number;
  /** The tfjs backend (or other engine) doing the work, for the coordinator's status table. */
  readonly backend: string;
  /** Fingerprint of the data's schema (e.g. SHA-256 of the feature names) for the run's manifest; never data. */
  readonly datasetFingerprint?: string;
}
