import { z } from 'zod';
import type { Weights } from '../../protocol/tensors.js';
import type { AggregateResult } from '../aggregation/aggregator.js';
import type { FitReport, Metrics, StrategyCapabilities, TaskFailure } from '../strategy.js';
import { applyFlatUpdate } from './applyUpdate.js';
import { FedAvg, type FedAvgOptions } from './fedAvg.js';
import { checkHalfOpenUnit } from './strategyOptions.js';
import { StrategyStateError, decodeField, encodeFloat32, float32Field, parseState } from './strategyState.js';
import { weightedMetrics } from './weightedMean.js';

/**
 * Server momentum (Hsu, Qi and Brown 2019, "Measuring the Effects of Non-Identical Data Distribution for
 * Federated Visual Classification", section 3): `v <- beta * v + delta`, then `w <- w + lr * v`, where
 * delta is the example-weighted mean client delta (the paper writes the step with Delta w = -delta).
 * v starts at 0, so round 1 moves the model by lr * delta exactly as FedAvg does.
 *
 * Pure: returns the new momentum; float64 arithmetic, stored as float32 like the model.
 */
export function serverMomentumStep(momentum: Float32Array | undefined, delta: Float32Array, beta: number): Float32Array {
  if (momentum && momentum.length !== delta.length) {
    throw new StrategyStateError(`FedAvgM momentum holds ${momentum.length} values but the update has ${delta.length}: the state is from another model`);
  }
  const next = new Float32Array(delta.length);
  for (let i = 0; i < next.length; i++) next[i] = beta * (momentum ? momentum[i]! : 0) + delta[i]!;
  return next;
}

export interface FedAvgMOptions extends FedAvgOptions {
  /** beta in [0, 1). Hsu et al. sweep {0.7, 0.9, 0.97, 0.99}; 0.9 here (Flower defaults to 0, plain FedAvg). */
  readonly serverMomentum?: number;
}

/** What FedAvgM carries between rounds, as JSON for checkpoints. */
export interface FedAvgMState {
  /** Always `fedavgm`. */
  readonly strategy: 'fedavgm';
  /** base64 of the float32 momentum; null before the first aggregated round. */
  readonly momentum: string | null;
}

const stateSchema = z.strictObject({ strategy: z.literal('fedavgm'), momentum: float32Field });

/**
 * FedAvg with server momentum (FedAvgM). Works in every mode: the step is linear in the mean delta, so under
 * CKKS the clients apply it and the momentum travels encrypted beside the model (capabilities.linearStep). Its
 * aggregator is FedAvg's (the `aggregator` option, e.g. a DP wrapper, applies).
 */
export class FedAvgM extends FedAvg {
  override readonly name: string = 'fedavgm';
  /** beta, the server momentum. */
  readonly serverMomentum: number;
  private momentum: Float32Array | undefined;

  constructor(options: FedAvgMOptions) {
    super(options);
    this.serverMomentum = checkHalfOpenUnit('serverMomentum', options.serverMomentum ?? 0.9);
  }

  /** Linear in the mean: under CKKS the clients keep v <- beta * v + mean delta and w <- w + lr * v, v encrypted. */
  override get capabilities(): StrategyCapabilities {
    return { needs: 'mean', linearStep: { serverLearningRate: this.serverLearningRate, serverMomentum: this.serverMomentum } };
  }

  override initialize(initial: Weights): Weights {
    this.momentum = undefined;
    return super.initialize(initial);
  }

  override aggregateFit(_round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], _failures: readonly TaskFailure[], into?: Weights): { weights: Weights; metrics: Metrics } {
    if (!aggregate.mean) return { weights: global, metrics: {} };
    const momentum = serverMomentumStep(this.momentum, aggregate.mean, this.serverMomentum);
    const weights = applyFlatUpdate(global, momentum, this.serverLearningRate, into);
    this.momentum = momentum;
    return { weights, metrics: weightedMetrics(reports) };
  }

  /** The momentum, for a checkpoint. */
  state(): FedAvgMState {
    return { strategy: 'fedavgm', momentum: this.momentum ? encodeFloat32(this.momentum) : null };
  }

  /** Restores the momentum from a checkpoint; throws on a malformed state. */
  restore(state: unknown): void {
    this.momentum = decodeField(parseState(stateSchema, state, this.name).momentum);
  }
}
