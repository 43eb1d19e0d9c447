import { totalParameters, type TensorSpec } from '../../protocol/tensors.js';
import type { AggregateResult, AggregationRound, Aggregator, UpdateSink } from './aggregator.js';

export interface StreamingMeanOptions {
  /**
   * Updates staged at once. Each slot is one float32 copy of the model; an update is staged whole and
   * checked (length, NaN/Inf) before it touches the sum, so a client that drops mid-upload or sends bad
   * values leaves no trace. Memory: 16 bytes/param (sum and its compensation) + 4 x slots bytes/param,
   * whatever the client count.
   */
  readonly slots?: number;
}

export class AggregationError extends Error {
  override readonly name = 'AggregationError';
}

/** Adds `weight * staged` into a float64 sum; the plain loop, kept as the benchmarks' reference. */
export function addWeighted(sum: Float64Array, staged: Float32Array, weight: number): void {
  const n = sum.length;
  for (let i = 0; i < n; i++) sum[i]! += weight * staged[i]!;
}

/**
 * Adds `weight * staged` into the double-double accumulator (sum, compensation) with Knuth's TwoSum, the
 * hot loop of FedAvg. A float32 times an integer weight below 2^29 is exact in float64, and TwoSum keeps
 * each addition's rounding error, so `sum + compensation` is the exact total in practice: the mean does
 * not depend on the order in which updates arrive, which makes runs reproducible bit for bit.
 */
export function addWeightedCompensated(sum: Float64Array, compensation: Float64Array, staged: Float32Array, weight: number): void {
  const n = sum.length;
  for (let i = 0; i < n; i++) {
    const a = sum[i]!;
    const b = weight * staged[i]!;
    const s = a + b;
    const bv = s - a;
    compensation[i]! += a - (s - bv) + (b - bv);
    sum[i] = s;
  }
}

/** Weighted mean of client updates in a float64 accumulator: FedAvg's aggregation, O(model) memory. */
export class StreamingMean implements Aggregator {
  readonly name = 'mean';
  private size = -1;
  private readonly slotCount: number;
  private free: Float32Array[] = [];
  /** The double-double accumulator, allocated once and zeroed per round (first touch of fresh pages is slow). */
  private sum = new Float64Array(0);
  private compensation = new Float64Array(0);
  private waiters: ((slot: Float32Array) => void)[] = [];

  constructor(options: StreamingMeanOptions = {}) {
    this.slotCount = options.slots ?? 2;
    if (!Number.isInteger(this.slotCount) || this.slotCount < 1) throw new AggregationError(`slots must be a positive integer, got ${this.slotCount}`);
  }

  bind(spec: readonly TensorSpec[]): void {
    const size = totalParameters(spec);
    if (size === 0) throw new AggregationError('the model has no parameters');
    if (size !== this.size) {
      this.size = size;
      this.free = Array.from({ length: this.slotCount }, () => new Float32Array(size));
      this.sum = new Float64Array(size);
      this.compensation = new Float64Array(size);
    }
  }

  begin(round: number): AggregationRound {
    if (this.size < 0) throw new AggregationError('bind() the aggregator to the model before round 1');
    // One round at a time uses the accumulator: rounds are sequential, and a closed round refuses commits.
    const { sum, compensation } = this;
    sum.fill(0);
    compensation.fill(0);
    const contributors: string[] = [];
    let totalWeight = 0;
    let closed = false;
    const size = this.size;
    return {
      accept: async (clientId, weight) => {
        if (closed) throw new AggregationError(`round ${round} is closed`);
        if (!(weight > 0) || !Number.isFinite(weight)) throw new AggregationError(`update weight must be positive and finite, got ${weight}`);
        const slot = await this.takeSlot();
        let written = 0;
        let done = false;
        const release = () => {
          if (done) return;
          done = true;
          this.giveSlot(slot);
        };
        const sink: UpdateSink = {
          write: (offset, values) => {
            if (done) throw new AggregationError('update already finished');
            if (offset !== written || offset + values.length > size) {
              release();
              throw new AggregationError(`update values out of place: offset ${offset}, ${values.length} values, model has ${size}`);
            }
            // Copy and check in one pass: x - x is 0 for every finite x and NaN for NaN and +-Infinity.
            let check = 0;
            for (let i = 0; i < values.length; i++) {
              const v = values[i]!;
              slot[offset + i] = v;
              check += v - v;
            }
            if (check !== 0) {
              const bad = values.findIndex((v) => !Number.isFinite(v));
              release();
              throw new AggregationError(`update has a non-finite value (${values[bad]}) at parameter ${offset + bad}`);
            }
            written += values.length;
          },
          commit: (scale = 1) => {
            if (done) throw new AggregationError('update already finished');
            if (closed) {
              release();
              throw new AggregationError(`round ${round} closed before the update from ${clientId} completed`);
            }
            if (written !== size) {
              release();
              throw new AggregationError(`update has ${written} values, the model has ${size}`);
            }
            if (!(scale >= 0 && scale <= 1)) {
              release();
              throw new AggregationError(`commit scale must be within [0, 1], got ${scale}`);
            }
            addWeightedCompensated(sum, compensation, slot, weight * scale);
            totalWeight += weight;
            contributors.push(clientId);
            release();
          },
          abort: () => release(),
        };
        return sink;
      },
      finish: (): AggregateResult => {
        closed = true;
        if (totalWeight === 0) return { mean: undefined, totalWeight: 0, contributors: [] };
        // The mean lands in an idle staging slot instead of a new model-sized array (uploads are over): it is
        // valid until the next round starts staging, which is after the strategy has applied it.
        // The compensation is folded into the sum in place (the accumulator is zeroed when the next round begins).
        const mean = this.free[this.free.length - 1] ?? new Float32Array(size);
        for (let i = 0; i < size; i++) {
          const total = sum[i]! + compensation[i]!;
          sum[i] = total;
          compensation[i] = 0; // so that a second finish() gives the same result
          mean[i] = total / totalWeight;
        }
        return { mean, totalWeight, contributors: [...contributors], sum };
      },
    };
  }

  private takeSlot(): Promise<Float32Array> {
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private giveSlot(slot: Float32Array): void {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}
