import type { Weights } from '../../protocol/tensors.js';
import type { AggregateResult } from '../aggregation/aggregator.js';
import { CollectAll, updatesOf } from '../aggregation/collectAll.js';
import type { FitReport, Metrics, StrategyCapabilities, TaskFailure } from '../strategy.js';
import { applyFlatUpdate } from './applyUpdate.js';
import { FedAvg, StrategyConfigError, type FedAvgOptions } from './fedAvg.js';
import { refuseAggregatorOption } from './strategyOptions.js';
import { weightedMetrics } from './weightedMean.js';

/**
 * Calls `pick(sorted, n)` for every coordinate with that coordinate's n values sorted ascending, and
 * collects what it returns. Shared by the coordinate-wise rules (median, trimmed mean, Bulyan's second
 * phase). Small columns (the usual cohort) are insertion-sorted in place, larger ones by the typed sort.
 */
export function mapSortedColumns(updates: readonly Float32Array[], pick: (sorted: Float64Array, n: number) => number): Float32Array {
  const n = updates.length;
  const size = updates[0]?.length ?? 0;
  for (const u of updates) if (u.length !== size) throw new RangeError(`updates differ in length (${u.length} and ${size})`);
  const column = new Float64Array(n);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < n; j++) column[j] = updates[j]![i]!;
    if (n <= 32) {
      for (let j = 1; j < n; j++) {
        const x = column[j]!;
        let k = j - 1;
        for (; k >= 0 && column[k]! > x; k--) column[k + 1] = column[k]!;
        column[k + 1] = x;
      }
    } else {
      column.sort();
    }
    out[i] = pick(column, n);
  }
  return out;
}

/** Mean of sorted[from, to) in float64. */
export function meanOfRange(sorted: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let k = from; k < to; k++) s += sorted[k]!;
  return s / (to - from);
}

/**
 * What the Byzantine-robust strategies share: FedAvg's sampling and evaluation, a CollectAll aggregator
 * (every update kept, O(clients x model) memory), plain mode only, and an update rule over the individual
 * deltas instead of their mean. The rules are translation-invariant, so applying them to deltas
 * (local - global) gives the same model as applying them to the local models (as Flower does).
 *
 * Every client counts once: a claimed example count is exactly what a Byzantine client would inflate, so
 * the robust rules ignore weights, as their papers do. `serverLearningRate` scales the robust delta. The
 * `aggregator` option is refused: a wrapper (DP noise) would either hide the updates or be bypassed.
 */
export abstract class RobustStrategy extends FedAvg {
  /** Robust rules look at every update: exactly what secure aggregation hides. */
  override get capabilities(): StrategyCapabilities {
    return { needs: 'each-update' };
  }
  private readonly collectSlots: number | undefined;

  constructor(options: FedAvgOptions) {
    super(options);
    refuseAggregatorOption(this.constructor.name, options, 'it keeps every update (CollectAll) and combines them itself');
    if (options.aggregation !== undefined) {
      throw new StrategyConfigError(`${this.constructor.name} does not take the aggregation option: it keeps every update in memory (CollectAll), with no streaming mean to configure`);
    }
    this.collectSlots = options.aggregationSlots;
  }

  override createAggregator(): CollectAll {
    return new CollectAll(this.collectSlots === undefined ? {} : { slots: this.collectSlots });
  }

  /** The robust combination of the round's deltas (at least one). */
  protected abstract combine(updates: readonly Float32Array[]): Float32Array;

  override aggregateFit(_round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], _failures: readonly TaskFailure[], into?: Weights): { weights: Weights; metrics: Metrics } {
    const updates = updatesOf(aggregate);
    if (!updates) {
      throw new Error(`${this.name} needs every client's update, but its aggregate carries only the mean: aggregate with the strategy's own createAggregator() (CollectAll), in plain mode`);
    }
    if (updates.length === 0) return { weights: global, metrics: {} };
    const delta = this.combine(updates.map((u) => u.values));
    return { weights: applyFlatUpdate(global, delta, this.serverLearningRate, into), metrics: weightedMetrics(reports) };
  }
}
