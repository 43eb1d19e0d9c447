import { z } from 'zod';
import type { Weights } from '../../protocol/tensors.js';
import type { AggregateResult } from '../aggregation/aggregator.js';
import type { FitReport, Metrics, StrategyCapabilities, TaskFailure } from '../strategy.js';
import { applyFlatUpdate } from './applyUpdate.js';
import { FedAvg, type FedAvgOptions } from './fedAvg.js';
import { checkHalfOpenUnit, checkPositive } from './strategyOptions.js';
import { StrategyStateError, decodeField, encodeFloat32, float32Field, parseState } from './strategyState.js';
import { weightedMetrics } from './weightedMean.js';

/**
 * The frame shared by FedAdagrad, FedAdam and FedYogi: Reddi et al. 2021, "Adaptive Federated
 * Optimization" (ICLR), Algorithm 2. The pseudo-gradient is the mean client delta Delta_t; then
 *   m_t = beta1 * m_{t-1} + (1 - beta1) * Delta_t
 *   v_t = rule(v_{t-1}, Delta_t^2)             (the only line that differs between the three)
 *   x_{t+1} = x_t + eta * m_t / (sqrt(v_t) + tau)
 * with m_{-1} = 0 and v_{-1} = tau^2 (the algorithm asks v_{-1} >= tau^2; Flower and FLamby start at 0).
 * No bias correction, as in the paper (recent Flower FedAdam scales eta by sqrt(1 - beta2^t) / (1 - beta1^t)).
 * tau > 0 and v_t >= 0 under all three rules, so the denominator is never below tau: no division by zero.
 */

/** v_t from v_{t-1} and Delta_t^2 (one coordinate). */
export type SecondMomentRule = (previous: number, squaredDelta: number, beta2: number) => number;

/** Reddi et al. 2021's server optimizer settings. */
export interface AdaptiveHyperparameters {
  /** Server learning rate (eta). */
  readonly eta: number;
  /** Degree of adaptivity (tau > 0): larger is closer to server SGD with momentum. */
  readonly tau: number;
  /** Decay of the first moment (momentum). */
  readonly beta1: number;
  /** Decay of the second moment. */
  readonly beta2: number;
}

export interface AdaptiveMoments {
  readonly m: Float32Array;
  readonly v: Float32Array;
}

/** m_{-1} = 0, v_{-1} = tau^2. */
export function initialMoments(size: number, tau: number): AdaptiveMoments {
  return { m: new Float32Array(size), v: new Float32Array(size).fill(tau * tau) };
}

/**
 * One round of Algorithm 2: returns the new moments and the step x_{t+1} - x_t. Pure; float64 arithmetic,
 * moments stored as float32, and the step computed from the stored moments so that a restored checkpoint
 * continues bit for bit.
 */
export function adaptiveStep(
  previous: AdaptiveMoments | undefined,
  delta: Float32Array,
  h: AdaptiveHyperparameters,
  rule: SecondMomentRule,
): { moments: AdaptiveMoments; step: Float32Array } {
  const size = delta.length;
  const { m: m0, v: v0 } = previous ?? initialMoments(size, h.tau);
  if (m0.length !== size || v0.length !== size) {
    throw new StrategyStateError(`the server optimizer's moments hold ${m0.length} and ${v0.length} values but the update has ${size}: the state is from another model`);
  }
  const m = new Float32Array(size);
  const v = new Float32Array(size);
  const step = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const d = delta[i]!;
    m[i] = h.beta1 * m0[i]! + (1 - h.beta1) * d;
    v[i] = rule(v0[i]!, d * d, h.beta2);
    step[i] = (h.eta * m[i]!) / (Math.sqrt(v[i]!) + h.tau);
  }
  return { moments: { m, v }, step };
}

/** FedAvg's options (without `serverLearningRate`: `eta` replaces it) and the adaptive hyperparameters, each defaulting to the strategy's. */
export type AdaptiveFedOptOptions = Omit<FedAvgOptions, 'serverLearningRate'> & Partial<AdaptiveHyperparameters>;

/** What FedAdam, FedYogi and FedAdagrad carry between rounds, as JSON for checkpoints. */
export interface AdaptiveFedOptState {
  /** The strategy's name; restoring another's state is refused. */
  readonly strategy: string;
  /** base64 of the float32 first and second moments; null before the first aggregated round. */
  readonly m: string | null;
  /** base64 of the float32 second moment; null before the first aggregated round. */
  readonly v: string | null;
}

/**
 * The strategy class behind FedAdagrad, FedAdam and FedYogi: FedAvg's rounds and aggregator (the `aggregator`
 * option, e.g. a DP wrapper, applies), Algorithm 2's update. The second moment squares the mean delta, which no
 * client can compute from its own: no linear step, so only modes that give the coordinator the mean run it.
 */
export class AdaptiveFedOpt extends FedAvg {
  override readonly name: string;
  override get capabilities(): StrategyCapabilities {
    return { needs: 'mean' };
  }
  readonly hyperparameters: AdaptiveHyperparameters;
  private moments: AdaptiveMoments | undefined;
  private readonly stateSchema: z.ZodType<{ strategy: string; m: string | null; v: string | null }>;

  constructor(name: string, options: AdaptiveFedOptOptions, defaults: AdaptiveHyperparameters, private readonly rule: SecondMomentRule) {
    const { eta, tau, beta1, beta2, ...rest } = options;
    super(rest);
    this.name = name;
    this.hyperparameters = {
      eta: checkPositive('eta', eta ?? defaults.eta),
      tau: checkPositive('tau', tau ?? defaults.tau),
      beta1: checkHalfOpenUnit('beta1', beta1 ?? defaults.beta1),
      beta2: checkHalfOpenUnit('beta2', beta2 ?? defaults.beta2),
    };
    this.stateSchema = z.strictObject({ strategy: z.literal(name), m: float32Field, v: float32Field });
  }

  override initialize(initial: Weights): Weights {
    this.moments = undefined;
    return super.initialize(initial);
  }

  override aggregateFit(_round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], _failures: readonly TaskFailure[], into?: Weights): { weights: Weights; metrics: Metrics } {
    if (!aggregate.mean) return { weights: global, metrics: {} };
    const { moments, step } = adaptiveStep(this.moments, aggregate.mean, this.hyperparameters, this.rule);
    const weights = applyFlatUpdate(global, step, 1, into);
    this.moments = moments;
    return { weights, metrics: weightedMetrics(reports) };
  }

  /** The moments, for a checkpoint. */
  state(): AdaptiveFedOptState {
    return {
      strategy: this.name,
      m: this.moments ? encodeFloat32(this.moments.m) : null,
      v: this.moments ? encodeFloat32(this.moments.v) : null,
    };
  }

  /** Restores the moments from a checkpoint; throws on another strategy's or a malformed state. */
  restore(state: unknown): void {
    const parsed = parseState(this.stateSchema, state, this.name);
    const m = decodeField(parsed.m);
    const v = decodeField(parsed.v);
    if (!m !== !v || (m && v && m.length !== v.length)) {
      throw new StrategyStateError(`cannot restore ${this.name} state: m and v must both be null or hold the same number of values (${m?.length ?? 'null'} and ${v?.length ?? 'null'})`);
    }
    this.moments = m && v ? { m, v } : undefined;
  }
}
