import { z } from 'zod';
import type { TensorSpec, Weights } from '../../protocol/tensors.js';
import type { AggregateResult } from '../aggregation/aggregator.js';
import { StreamingMean } from '../aggregation/streamingMean.js';
import { UniformWeights } from '../aggregation/uniformWeights.js';
import type { ClientSummary, FitPayloadShape, FitReport, FitTask, Metrics, StrategyCapabilities, TaskFailure } from '../strategy.js';
import type { SeededRng } from '../../protocol/seededRng.js';
import { applyFlatUpdate } from './applyUpdate.js';
import { FedAvg, StrategyConfigError, type FedAvgOptions } from './fedAvg.js';
import { checkInteger, refuseAggregatorOption } from './strategyOptions.js';
import { StrategyStateError, decodeField, encodeFloat32, float32Field, parseState } from './strategyState.js';
import { SCAFFOLD_EXTRA_KEY, joinScaffold, scaffoldSpec } from '../../protocol/scaffoldWire.js';
import { weightedMetrics } from './weightedMean.js';

/**
 * SCAFFOLD's server step (Karimireddy et al. 2020, Algorithm 1, lines 16-17) from the uniform mean of the
 * uploads [delta_y; delta_c] (length 2d):
 *   x <- x + eta_g * mean(delta_y)             (the caller applies modelDelta with eta_g)
 *   c <- c + (|S| / N) * mean(delta_c)         (keeps c the mean of all N clients' c_i)
 * Pure: returns the model delta (a copy of the first half) and the new control variate.
 */
export function scaffoldServerUpdate(
  control: Float32Array | undefined,
  mean: Float32Array,
  participants: number,
  totalClients: number,
): { modelDelta: Float32Array; control: Float32Array } {
  if (mean.length % 2 !== 0) throw new RangeError(`a SCAFFOLD mean has [delta_y; delta_c], an even number of values, got ${mean.length}`);
  const d = mean.length / 2;
  if (control && control.length !== d) throw new StrategyStateError(`SCAFFOLD's control variate holds ${control.length} values but the model has ${d}: the state is from another model`);
  if (!(participants >= 1 && participants <= totalClients)) throw new RangeError(`SCAFFOLD needs 1 <= |S| <= N, got |S| = ${participants}, N = ${totalClients}`);
  const share = participants / totalClients;
  const next = new Float32Array(d);
  for (let i = 0; i < d; i++) next[i] = (control ? control[i]! : 0) + share * mean[d + i]!;
  return { modelDelta: mean.slice(0, d), control: next };
}

export interface ScaffoldOptions extends FedAvgOptions {
  /**
   * N: every client of the federation (not just a round's cohort), for c's |S| / N step. A round with more
   * eligible clients than N is refused, since c would then overshoot the mean of the c_i.
   */
  readonly totalClients: number;
}

/** What SCAFFOLD carries between rounds, as JSON for checkpoints. */
export interface ScaffoldState {
  /** Always `scaffold`. */
  readonly strategy: 'scaffold';
  /** base64 of the float32 server control variate c; null before the first aggregated round (c = 0). */
  readonly control: string | null;
}

const stateSchema = z.strictObject({ strategy: z.literal('scaffold'), control: float32Field });

/**
 * SCAFFOLD (Karimireddy, Kale, Mohri, Reddi, Stich and Suresh 2020, "SCAFFOLD: Stochastic Controlled
 * Averaging for Federated Learning", ICML), server side, option II. `serverLearningRate` is eta_g.
 *
 * Wire layout (src/protocol/scaffoldWire.ts): fit tasks download `fitPayload(global)` = [x; c] and upload
 * [delta_y; delta_c], so the aggregator must be bound to `uploadSpec(model)`, twice the model (the coordinator
 * does so through capabilities.payload). Averages are uniform over the contributors (Algorithm 1's 1/|S|), by
 * UniformWeights around a streaming mean. The client side is src/client/scaffoldMember.ts.
 *
 * Plain mode only for now: the sums it needs would survive a masking mode (the server learns only the means it
 * uses) but the secure modes weight by example count on the client and know nothing of the doubled layout.
 */
export class Scaffold extends FedAvg implements FitPayloadShape {
  override readonly name: string = 'scaffold';
  /** Fit tasks carry [x; c] down and [delta_y; delta_c] up, a payload the secure modes do not pack. */
  override get capabilities(): StrategyCapabilities {
    return { needs: 'mean', payload: { layout: 'scaffold', uploadSpec: (model) => this.uploadSpec(model), fitPayload: (global) => this.fitPayload(global) } };
  }
  /** N, every client of the federation. */
  readonly totalClients: number;
  private control: Float32Array | undefined;

  constructor(options: ScaffoldOptions) {
    super({ ...options, fit: { ...options.fit, extra: { ...options.fit.extra, [SCAFFOLD_EXTRA_KEY]: true } } });
    refuseAggregatorOption('Scaffold', options, 'it averages [delta_y; delta_c] uniformly (UniformWeights over a streaming mean)');
    this.totalClients = checkInteger('totalClients (N)', options.totalClients, 1);
    if (this.totalClients < this.minFitClients) {
      throw new StrategyConfigError(`totalClients (${this.totalClients}) must be at least minFitClients (${this.minFitClients})`);
    }
  }

  /** Bind it to `uploadSpec(model)`. */
  override createAggregator(): UniformWeights {
    return new UniformWeights(new StreamingMean(this.aggregationOptions));
  }

  /** What a fit upload looks like: [delta_y; delta_c], twice the model. */
  uploadSpec(model: readonly TensorSpec[]): TensorSpec[] {
    return scaffoldSpec(model);
  }

  /** What a fit task downloads: [x; c] (c is zeros before the first round). */
  fitPayload(global: Weights): Weights {
    let at = 0;
    const control = global.map((t) => {
      const data = this.control ? this.control.slice(at, at + t.data.length) : new Float32Array(t.data.length);
      at += t.data.length;
      return { name: t.name, shape: [...t.shape], data };
    });
    if (this.control && at !== this.control.length) throw new StrategyStateError(`SCAFFOLD's control variate holds ${this.control.length} values but the model has ${at}`);
    return joinScaffold(global, control);
  }

  override initialize(initial: Weights): Weights {
    this.control = undefined;
    return super.initialize(initial);
  }

  override configureFit(round: number, clients: readonly ClientSummary[], rng: SeededRng): FitTask[] {
    if (clients.length > this.totalClients) {
      throw new StrategyConfigError(`SCAFFOLD was configured for totalClients N = ${this.totalClients}, but ${clients.length} clients are eligible: set totalClients to the federation's size`);
    }
    return super.configureFit(round, clients, rng);
  }

  override aggregateFit(_round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], _failures: readonly TaskFailure[], into?: Weights): { weights: Weights; metrics: Metrics } {
    if (!aggregate.mean) return { weights: global, metrics: {} };
    const size = global.reduce((n, t) => n + t.data.length, 0);
    if (aggregate.mean.length !== 2 * size) {
      throw new Error(`SCAFFOLD aggregates [delta_y; delta_c], ${2 * size} values for this model, but the aggregate has ${aggregate.mean.length}: bind its aggregator to uploadSpec(model)`);
    }
    const { modelDelta, control } = scaffoldServerUpdate(this.control, aggregate.mean, aggregate.contributors.length, this.totalClients);
    const weights = applyFlatUpdate(global, modelDelta, this.serverLearningRate, into);
    this.control = control;
    return { weights, metrics: weightedMetrics(reports) };
  }

  /** The server control variate, for a checkpoint. */
  state(): ScaffoldState {
    return { strategy: 'scaffold', control: this.control ? encodeFloat32(this.control) : null };
  }

  /** Restores the control variate from a checkpoint; throws on a malformed state. */
  restore(state: unknown): void {
    this.control = decodeField(parseState(stateSchema, state, this.name).control);
  }
}
