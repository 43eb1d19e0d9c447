import type { SeededRng } from '../../protocol/seededRng.js';
import type { Weights } from '../../protocol/tensors.js';
import type { AggregateResult, Aggregator } from '../aggregation/aggregator.js';
import { StreamingMean, type StreamingMeanOptions } from '../aggregation/streamingMean.js';
import type {
  StrategyCapabilities,
  ClientSummary,
  EvaluateReport,
  EvaluateTask,
  EvaluationSummary,
  FitInstructions,
  FitReport,
  FitTask,
  Metrics,
  Strategy,
  TaskFailure,
} from '../strategy.js';
import { applyFlatUpdate } from './applyUpdate.js';
import { sampleCohort } from './sampling.js';
import { weightedEvaluation, weightedMetrics } from './weightedMean.js';

/** FedAvg's settings; every other strategy takes these too. */
export interface FedAvgOptions {
  /** Fraction of available clients asked to train each round (default 1; at least `minFitClients` are asked). */
  readonly fractionFit?: number;
  /** Fraction of available clients asked to evaluate each round (default 1; 0 turns federated evaluation off). */
  readonly fractionEvaluate?: number;
  /** Fit results a round needs to count (default 2). */
  readonly minFitClients?: number;
  /** Evaluation reports a round needs for its federated metrics (default `minFitClients`). */
  readonly minEvaluateClients?: number;
  /** Connected clients a round waits for (default `minFitClients`; not below it). */
  readonly minAvailableClients?: number;
  /** Local training: epochs, batch size, learning rate. */
  readonly fit: FitInstructions;
  /** Batch size of the clients' evaluation pass (default 256). */
  readonly evaluateBatchSize?: number;
  /** Scales the averaged delta (1 = plain FedAvg). */
  readonly serverLearningRate?: number;
  /** Updates the streaming mean takes in flight at once (each staged in memory, 4 bytes/param, or in a temporary file from 16M params). */
  readonly aggregationSlots?: number;
  /** The rest of the streaming mean's options (where big models stage updates: `stagingDir`, `staging`, `sumAt`...); `aggregationSlots` sets its slots. */
  readonly aggregation?: StreamingMeanOptions;
  /** Central evaluation of each round's global model on the coordinator (held-out data it may see). The weights are the coordinator's own, overwritten by the next round's step: copy them to keep them. */
  readonly evaluateFn?: (round: number, weights: Weights) => Promise<EvaluationSummary | undefined>;
  /** Replaces the {@link StreamingMean}, e.g. with DP wrapped around it: `() => new DpMean(new StreamingMean(), ...)` ({@link cohort-fl/coordinator!DpMean}). */
  readonly aggregator?: () => Aggregator;
}

/** A strategy's options are out of range; the message names the option, the bound and the value given. */
export class StrategyConfigError extends Error {
  /** Always `StrategyConfigError`. */
  override readonly name = 'StrategyConfigError';
}

function checkFraction(name: string, v: number): number {
  if (!(v >= 0 && v <= 1)) throw new StrategyConfigError(`${name} must be within [0, 1], got ${v}`);
  return v;
}

function checkCount(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new StrategyConfigError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/**
 * FedAvg (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from Decentralized
 * Data", Algorithm 1): clients send deltas; the new global model is the old one plus the example-weighted
 * mean delta (times a server learning rate, 1 by default).
 */
export class FedAvg implements Strategy {
  /** `fedavg`; each subclass sets its own. */
  readonly name: string = 'fedavg';
  /** Connected clients a round waits for. */
  readonly minAvailableClients: number;
  /** Fit results a round needs to count. */
  readonly minFitClients: number;
  /** Evaluation reports a round needs for its federated metrics. */
  readonly minEvaluateClients: number;
  /** Share of the available clients sampled to train each round. */
  protected readonly fractionFit: number;
  /** Share of the available clients sampled to evaluate each round. */
  protected readonly fractionEvaluate: number;
  /** What every fit task carries (subclasses add to `extra`). */
  protected readonly fitInstructions: FitInstructions;
  /** Batch size of the clients' evaluation pass. */
  protected readonly evaluateBatchSize: number;
  /** Scales the mean delta: w <- w + serverLearningRate * mean delta. */
  protected readonly serverLearningRate: number;
  private readonly aggregationSlots: number | undefined;
  /** The streaming mean's options, slots included. */
  protected readonly aggregationOptions: StreamingMeanOptions;
  private readonly evaluateFn: FedAvgOptions['evaluateFn'];
  private readonly aggregatorFactory: FedAvgOptions['aggregator'];

  /** A mean suffices, and the step (w <- w + lr * mean delta) is linear in it: clients can apply it. */
  get capabilities(): StrategyCapabilities {
    return { needs: 'mean', linearStep: { serverLearningRate: this.serverLearningRate, serverMomentum: 0 } };
  }

  constructor(options: FedAvgOptions) {
    this.fractionFit = checkFraction('fractionFit', options.fractionFit ?? 1);
    this.fractionEvaluate = checkFraction('fractionEvaluate', options.fractionEvaluate ?? 1);
    this.minFitClients = checkCount('minFitClients', options.minFitClients ?? 2, 1);
    this.minEvaluateClients = checkCount('minEvaluateClients', options.minEvaluateClients ?? this.minFitClients, 0);
    this.minAvailableClients = checkCount('minAvailableClients', options.minAvailableClients ?? this.minFitClients, 1);
    if (this.minAvailableClients < this.minFitClients) {
      throw new StrategyConfigError(`minAvailableClients (${this.minAvailableClients}) must be at least minFitClients (${this.minFitClients})`);
    }
    this.fitInstructions = options.fit;
    this.evaluateBatchSize = checkCount('evaluateBatchSize', options.evaluateBatchSize ?? 256, 1);
    this.serverLearningRate = options.serverLearningRate ?? 1;
    if (!(Number.isFinite(this.serverLearningRate) && this.serverLearningRate > 0)) throw new StrategyConfigError(`serverLearningRate must be positive, got ${this.serverLearningRate}`);
    this.aggregationSlots = options.aggregationSlots;
    this.aggregationOptions = { ...options.aggregation, ...(options.aggregationSlots === undefined ? {} : { slots: options.aggregationSlots }) };
    new StreamingMean(this.aggregationOptions); // refuses a combination that cannot work now, not at round 1
    this.evaluateFn = options.evaluateFn;
    this.aggregatorFactory = options.aggregator;
  }

  /** A fresh streaming mean (or the `aggregator` option's), which the coordinator binds to the model and runs every round through. */
  createAggregator(): Aggregator {
    if (this.aggregatorFactory) return this.aggregatorFactory();
    return new StreamingMean(this.aggregationOptions);
  }

  /** Returns the initial weights unchanged. */
  initialize(initial: Weights): Weights {
    return initial;
  }

  /** Samples `fractionFit` of the clients (at least `minFitClients`), each with the same fit instructions. */
  configureFit(_round: number, clients: readonly ClientSummary[], rng: SeededRng): FitTask[] {
    return sampleCohort(clients, this.fractionFit, this.minFitClients, rng).map((client) => ({ client, instructions: this.fitInstructions }));
  }

  /** The example-weighted mean of the clients' fit metrics (loss, accuracy, training time...). */
  aggregateFitMetrics(_round: number, reports: readonly FitReport[], _failures: readonly TaskFailure[]): Metrics {
    return weightedMetrics(reports);
  }

  /** w + serverLearningRate * mean delta (written into `into` when given), and the example-weighted mean of the fit metrics. */
  aggregateFit(_round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], _failures: readonly TaskFailure[], into?: Weights): { weights: Weights; metrics: Metrics } {
    if (!aggregate.mean) return { weights: global, metrics: {} };
    return { weights: applyFlatUpdate(global, aggregate.mean, this.serverLearningRate, into), metrics: weightedMetrics(reports) };
  }

  /** Samples `fractionEvaluate` of the clients (at least `minEvaluateClients`; none when the fraction is 0). */
  configureEvaluate(_round: number, clients: readonly ClientSummary[], rng: SeededRng): EvaluateTask[] {
    if (this.fractionEvaluate === 0) return [];
    return sampleCohort(clients, this.fractionEvaluate, this.minEvaluateClients, rng).map((client) => ({ client, batchSize: this.evaluateBatchSize }));
  }

  /** The example-weighted mean of the clients' losses and of the metrics every client reported. */
  aggregateEvaluate(_round: number, reports: readonly EvaluateReport[], _failures: readonly TaskFailure[]): EvaluationSummary {
    return weightedEvaluation(reports);
  }

  /** Runs the `evaluateFn` option on the round's global model; undefined without one. */
  async evaluate(round: number, weights: Weights): Promise<EvaluationSummary | undefined> {
    return this.evaluateFn ? this.evaluateFn(round, weights) : undefined;
  }
}
