import type { SeededRng } from '../../protocol/seededRng.js';
import type { Weights } from '../../protocol/tensors.js';
import type { AggregateResult, Aggregator } from '../aggregation/aggregator.js';
import { StreamingMean } from '../aggregation/streamingMean.js';
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

export interface FedAvgOptions {
  /** Fraction of available clients asked to train each round. */
  readonly fractionFit?: number;
  readonly fractionEvaluate?: number;
  readonly minFitClients?: number;
  readonly minEvaluateClients?: number;
  readonly minAvailableClients?: number;
  readonly fit: FitInstructions;
  readonly evaluateBatchSize?: number;
  /** Scales the averaged delta (1 = plain FedAvg). */
  readonly serverLearningRate?: number;
  /** Staging slots of the streaming mean (memory: 4 bytes/param each). */
  readonly aggregationSlots?: number;
  readonly evaluateFn?: (round: number, weights: Weights) => Promise<EvaluationSummary | undefined>;
  /** Replaces the streaming mean, e.g. with DP wrapped around it: `() => new DpMean(new StreamingMean(), ...)`. */
  readonly aggregator?: () => Aggregator;
}

export class StrategyConfigError extends Error {
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
  readonly name: string = 'fedavg';
  readonly minAvailableClients: number;
  readonly minFitClients: number;
  readonly minEvaluateClients: number;
  protected readonly fractionFit: number;
  protected readonly fractionEvaluate: number;
  protected readonly fitInstructions: FitInstructions;
  protected readonly evaluateBatchSize: number;
  protected readonly serverLearningRate: number;
  private readonly aggregationSlots: number | undefined;
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
    this.evaluateFn = options.evaluateFn;
    this.aggregatorFactory = options.aggregator;
  }

  createAggregator(): Aggregator {
    if (this.aggregatorFactory) return this.aggregatorFactory();
    return new StreamingMean(this.aggregationSlots === undefined ? {} : { slots: this.aggregationSlots });
  }

  initialize(initial: Weights): Weights {
    return initial;
  }

  configureFit(_round: number, clients: readonly ClientSummary[], rng: SeededRng): FitTask[] {
    return sampleCohort(clients, this.fractionFit, this.minFitClients, rng).map((client) => ({ client, instructions: this.fitInstructions }));
  }

  /** The example-weighted mean of the clients' fit metrics (loss, accuracy, training time...). */
  aggregateFitMetrics(_round: number, reports: readonly FitReport[], _failures: readonly TaskFailure[]): Metrics {
    return weightedMetrics(reports);
  }

  aggregateFit(_round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], _failures: readonly TaskFailure[]): { weights: Weights; metrics: Metrics } {
    if (!aggregate.mean) return { weights: global, metrics: {} };
    return { weights: applyFlatUpdate(global, aggregate.mean, this.serverLearningRate), metrics: weightedMetrics(reports) };
  }

  configureEvaluate(_round: number, clients: readonly ClientSummary[], rng: SeededRng): EvaluateTask[] {
    if (this.fractionEvaluate === 0) return [];
    return sampleCohort(clients, this.fractionEvaluate, this.minEvaluateClients, rng).map((client) => ({ client, batchSize: this.evaluateBatchSize }));
  }

  aggregateEvaluate(_round: number, reports: readonly EvaluateReport[], _failures: readonly TaskFailure[]): EvaluationSummary {
    return weightedEvaluation(reports);
  }

  async evaluate(round: number, weights: Weights): Promise<EvaluationSummary | undefined> {
    return this.evaluateFn ? this.evaluateFn(round, weights) : undefined;
  }
}
