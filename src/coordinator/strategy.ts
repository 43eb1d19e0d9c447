import type { SeededRng } from '../protocol/seededRng.js';
import type { TensorSpec, Weights } from '../protocol/tensors.js';
import type { AggregateResult, Aggregator } from './aggregation/aggregator.js';

export type Metrics = Readonly<Record<string, number>>;

/** A connected client as strategies see it. */
export interface ClientSummary {
  readonly id: string;
  readonly name: string;
  readonly numTrainExamples: number;
  readonly numTestExamples: number;
  readonly backend: string;
  /** What the client reported about its data's schema (for the manifest); never data. */
  readonly datasetFingerprint?: string;
}

export interface FitInstructions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly maxSteps?: number;
  readonly extra?: Readonly<Record<string, number | string | boolean>>;
}

export interface FitTask {
  readonly client: ClientSummary;
  readonly instructions: FitInstructions;
}

export interface EvaluateTask {
  readonly client: ClientSummary;
  readonly batchSize: number;
}

/** Why a client's task did not count, as a value inside the results (not a side channel). */
export type FailureReason = 'timeout' | 'disconnected' | 'client-error' | 'refused';

export interface TaskFailure {
  readonly client: ClientSummary;
  readonly reason: FailureReason;
  readonly detail: string;
}

export interface FitReport {
  readonly client: ClientSummary;
  readonly numExamples: number;
  readonly metrics: Metrics;
}

export interface EvaluateReport {
  readonly client: ClientSummary;
  readonly numExamples: number;
  readonly loss: number;
  readonly metrics: Metrics;
}

export interface EvaluationSummary {
  readonly loss: number | undefined;
  readonly metrics: Metrics;
}

/**
 * Flower's strategy contract: configure and aggregate, for fit and for evaluate. Inputs are never
 * mutated; anything a strategy carries between rounds lives in its own fields, set in aggregateFit.
 */
export interface Strategy {
  readonly name: string;
  /** Clients that must be connected before a round starts. */
  readonly minAvailableClients: number;
  /** Fit results a round needs to count; below it the round fails and is retried. */
  readonly minFitClients: number;
  readonly minEvaluateClients: number;
  /** What the strategy needs of the aggregation and what it offers; the modes it runs in derive from it. */
  readonly capabilities: StrategyCapabilities;
  /** The aggregation this strategy's update rule consumes (a streaming mean for FedAvg). */
  createAggregator(): Aggregator;
  initialize(initial: Weights): Weights;
  configureFit(round: number, clients: readonly ClientSummary[], rng: SeededRng): FitTask[];
  aggregateFit(round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], failures: readonly TaskFailure[]): { weights: Weights; metrics: Metrics };
  /**
   * The fit metrics alone, for modes where the coordinator never sees the aggregate (CKKS: the clients apply
   * the step); by default the example-weighted mean of the clients' metrics.
   */
  aggregateFitMetrics?(round: number, reports: readonly FitReport[], failures: readonly TaskFailure[]): Metrics;
  configureEvaluate(round: number, clients: readonly ClientSummary[], rng: SeededRng): EvaluateTask[];
  aggregateEvaluate(round: number, reports: readonly EvaluateReport[], failures: readonly TaskFailure[]): EvaluationSummary;
  /** What the strategy carries between rounds (momentum, moments), as JSON, for checkpoints. */
  state?(): unknown;
  /** Restores `state()`'s value when a run resumes from a checkpoint. */
  restore?(state: unknown): void;
  /** Central evaluation on the coordinator's side, if the experiment provides one. */
  evaluate?(round: number, weights: Weights): Promise<EvaluationSummary | undefined>;
}

/**
 * What a strategy needs and offers, typed; which secure-aggregation modes it works in is derived from this by
 * each mode (src/modes), never listed by hand.
 */
export interface StrategyCapabilities {
  /**
   * What aggregateFit consumes: `mean`, the weighted mean of the updates (a sum a secure mode can compute);
   * `each-update`, every individual update (robust rules, server-side clipping), which secure modes hide.
   */
  readonly needs: 'mean' | 'each-update';
  /**
   * The step, when it is linear in the mean update: w <- w + lr * v, v <- momentum * v + mean delta. Clients
   * can then apply it themselves (what CKKS needs, since the coordinator never sees the mean there).
   */
  readonly linearStep?: { readonly serverLearningRate: number; readonly serverMomentum: number };
  /** Set when fit tasks carry more than the model (SCAFFOLD's [x; c] down, [delta_y; delta_c] up). */
  readonly payload?: FitPayloadShape;
}

/**
 * What a strategy implements when its fit tasks carry more than the model (SCAFFOLD: [x; c] down and
 * [delta_y; delta_c] up). The coordinator binds the aggregator to `uploadSpec(model)` and streams
 * `fitPayload(global)` to fit tasks; evaluate tasks still get the plain global model.
 */
export interface FitPayloadShape {
  /** The layout of a fit upload, from the model's spec. */
  uploadSpec(model: readonly TensorSpec[]): TensorSpec[];
  /** What a fit task downloads instead of the global model. */
  fitPayload(global: Weights): Weights;
}
