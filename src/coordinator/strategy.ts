import type { PayloadLayout } from '../protocol/messages.js';
import type { SeededRng } from '../protocol/seededRng.js';
import type { TensorSpec, Weights } from '../protocol/tensors.js';
import type { AggregateResult, Aggregator } from './aggregation/aggregator.js';

/** Named numbers a client or a round reports: `loss`, `accuracy`, training time... */
export type Metrics = Readonly<Record<string, number>>;

/** A connected client as strategies see it. */
export interface ClientSummary {
  /** The session id: a new one on every reconnect. */
  readonly id: string;
  /** The name the client authenticated with (its access-list entry). */
  readonly name: string;
  /** Training rows the client announced at hello. */
  readonly numTrainExamples: number;
  /** Held-out rows the client evaluates on. */
  readonly numTestExamples: number;
  /** The tfjs backend the client trains on (`wasm`, `cpu`, `webgpu`...). */
  readonly backend: string;
  /** What the client reported about its data's schema (for the manifest); never data. */
  readonly datasetFingerprint?: string;
}

/** How a client trains in one round. */
export interface FitInstructions {
  /** Local epochs over the client's training rows. */
  readonly epochs: number;
  /** Examples per optimizer step. */
  readonly batchSize: number;
  /** The clients' optimizer learning rate. */
  readonly learningRate: number;
  /** Optimizer steps (batches) instead of whole epochs, when set. */
  readonly maxSteps?: number;
  /** Strategy-specific values for the client (FedProx's `proximalMu`, for one). */
  readonly extra?: Readonly<Record<string, number | string | boolean>>;
}

/** One client asked to train this round, and how. */
export interface FitTask {
  /** The client asked. */
  readonly client: ClientSummary;
  /** How it trains. */
  readonly instructions: FitInstructions;
}

/** One client asked to evaluate the global model on its held-out rows. */
export interface EvaluateTask {
  /** The client asked. */
  readonly client: ClientSummary;
  /** Batch size of the evaluation pass (memory, not results). */
  readonly batchSize: number;
}

/** Why a client's task did not count, as a value inside the results (not a side channel). */
export type FailureReason = 'timeout' | 'disconnected' | 'client-error' | 'refused';

/** A task that did not count: whose, why, and the message that says so. */
export interface TaskFailure {
  /** The client whose task failed. */
  readonly client: ClientSummary;
  /** The kind of failure. */
  readonly reason: FailureReason;
  /** The cause in words, for logs and the dashboard. */
  readonly detail: string;
}

/** A client's fit result as strategies see it (the update itself goes to the aggregator). */
export interface FitReport {
  /** The client that trained. */
  readonly client: ClientSummary;
  /** Examples the update was trained on: the weight of this update in an example-weighted mean. */
  readonly numExamples: number;
  /** The client's training metrics (loss, accuracy, time). */
  readonly metrics: Metrics;
}

/** A client's evaluation of the global model on its held-out rows. */
export interface EvaluateReport {
  /** The client that evaluated. */
  readonly client: ClientSummary;
  /** Rows evaluated: the weight of this report in the round's mean. */
  readonly numExamples: number;
  /** Its loss on its held-out rows. */
  readonly loss: number;
  /** Its further metrics (`accuracy`...). */
  readonly metrics: Metrics;
}

/** An evaluation aggregated over clients, or the central one: a loss (if any) and metrics. */
export interface EvaluationSummary {
  /** The (example-weighted) loss; undefined when nothing was evaluated. */
  readonly loss: number | undefined;
  /** The aggregated metrics. */
  readonly metrics: Metrics;
}

/**
 * Flower's strategy contract: configure and aggregate, for fit and for evaluate. Inputs are never
 * mutated; anything a strategy carries between rounds lives in its own fields, set in aggregateFit.
 */
export interface Strategy {
  /** The strategy's name as configs spell it (`fedavg`, `krum`...), for logs and the manifest. */
  readonly name: string;
  /** Clients that must be connected before a round starts. */
  readonly minAvailableClients: number;
  /** Fit results a round needs to count; below it the round fails and is retried. */
  readonly minFitClients: number;
  /** Evaluation reports a round needs for its federated evaluation to count. */
  readonly minEvaluateClients: number;
  /** What the strategy needs of the aggregation and what it offers; the modes it runs in derive from it. */
  readonly capabilities: StrategyCapabilities;
  /** The aggregation this strategy's update rule consumes (a streaming mean for FedAvg). */
  createAggregator(): Aggregator;
  /** The global model of round 1, from the initial weights (returned unchanged by most strategies). */
  initialize(initial: Weights): Weights;
  /** Picks this round's training cohort from the connected clients and what each does; `rng` is seeded from the run's seed, the round and the attempt. */
  configureFit(round: number, clients: readonly ClientSummary[], rng: SeededRng): FitTask[];
  /**
   * The new global model from the round's aggregate (the mean update, or every update when `capabilities.needs`
   * is `each-update`), with the round's training metrics. Must not mutate its arguments, except `into`: where the
   * coordinator passes it (its own copy of `global`, same arrays, which it stops reading once this returns), the
   * strategy may write the new weights there and return them, so that a round allocates no second model (at 100M
   * parameters, 400 MB). Element i of `global` must be read before element i of `into` is written; state kept for
   * later rounds must not alias either.
   */
  aggregateFit(round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], failures: readonly TaskFailure[], into?: Weights): { weights: Weights; metrics: Metrics };
  /**
   * The fit metrics alone, for modes where the coordinator never sees the aggregate (CKKS: the clients apply
   * the step); by default the example-weighted mean of the clients' metrics.
   */
  aggregateFitMetrics?(round: number, reports: readonly FitReport[], failures: readonly TaskFailure[]): Metrics;
  /** Picks the clients that evaluate the new global model this round (none: no federated evaluation). */
  configureEvaluate(round: number, clients: readonly ClientSummary[], rng: SeededRng): EvaluateTask[];
  /** The round's federated evaluation from the clients' reports (by default their example-weighted mean). */
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
 * `fitPayload(global)` to fit tasks; evaluate tasks get the plain global model, or the fit payload under `layout`.
 */
export interface FitPayloadShape {
  /**
   * A layout clients know how to read the model from (SCAFFOLD's `scaffold`): evaluate tasks and the final model
   * then carry the fit payload too, so the next round's fit names the payload a client holds instead of sending it
   * again. Without one, evaluate tasks get the plain global model.
   */
  readonly layout?: PayloadLayout;
  /** The layout of a fit upload, from the model's spec. */
  uploadSpec(model: readonly TensorSpec[]): TensorSpec[];
  /** What a fit task downloads instead of the global model. */
  fitPayload(global: Weights): Weights;
}
