import { totalParameters, type TensorSpec } from '../../protocol/tensors.js';
import type { AggregateResult, AggregationRound, Aggregator, UpdateSink } from './aggregator.js';
import { createMeanKernel, type MeanKernel } from './meanKernel.js';

export { addWeighted, addWeightedCompensated } from './meanKernel.js';

/** StreamingMean's memory and kernel. */
export interface StreamingMeanOptions {
  /**
   * Updates staged at once. Each slot is one float32 copy of the model; an update is staged whole and
   * checked (length, NaN/Inf) before it touches the sum, so a client that drops mid-upload or sends bad
   * values leaves no trace. Memory: 16 bytes/param (sum and its compensation) + 4 x slots bytes/param,
   * whatever the client count.
   */
  readonly slots?: number;
  /** The hot loops: WebAssembly SIMD where the model fits its memory (the default), or plain JavaScript. */
  readonly kernel?: 'wasm-simd' | 'js';
}

/** An update cannot be aggregated (wrong length, a non-finite value, a bad weight, a closed round) or the aggregator is misused (not bound); the message says which. */
export class AggregationError extends Error {
  /** Always `AggregationError`. */
  override readonly name = 'AggregationError';
}

/** Weighted mean of client updates in a float64 accumulator: FedAvg's aggregation, O(model) memory. */
export class StreamingMean implements Aggregator {
  readonly name = 'mean';
  private size = -1;
  private readonly slotCount: number;
  private readonly preferKernel: 'wasm-simd' | 'js';
  private free: Float32Array[] = [];
  /** The double-double accumulator and the slots, allocated once and zeroed per round (first touch of fresh pages is slow). */
  private kernel: MeanKernel | undefined;
  /** The accumulator was just allocated, so already zero: the first round skips writing 16 bytes/param. */
  private fresh = false;
  private waiters: ((slot: Float32Array) => void)[] = [];

  constructor(options: StreamingMeanOptions = {}) {
    this.slotCount = options.slots ?? 2;
    this.preferKernel = options.kernel ?? 'wasm-simd';
    if (!Number.isInteger(this.slotCount) || this.slotCount < 1) throw new AggregationError(`slots must be a positive integer, got ${this.slotCount}`);
  }

  bind(spec: readonly TensorSpec[]): void {
    const size = totalParameters(spec);
    if (size === 0) throw new AggregationError('the model has no parameters');
    if (size !== this.size) {
      this.size = size;
      this.kernel = createMeanKernel(size, this.slotCount, this.preferKernel);
      this.free = [...this.kernel.slots];
      this.fresh = true;
    }
  }

  begin(round: number): AggregationRound {
    const kernel = this.kernel;
    if (!kernel) throw new AggregationError('bind() the aggregator to the model before round 1');
    // One round at a time uses the accumulator: rounds are sequential, and a closed round refuses commits.
    const { sum, compensation } = kernel;
    if (!this.fresh) {
      sum.fill(0);
      compensation.fill(0);
    }
    this.fresh = false;
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
            // The run is checked right after it is copied, while it is still in cache.
            const staged = slot.subarray(offset, offset + values.length);
            staged.set(values);
            if (!kernel.finite(staged)) {
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
            kernel.add(slot, weight * scale);
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
        kernel.mean(mean, totalWeight);
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
