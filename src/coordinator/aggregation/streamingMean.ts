import { totalParameters, type TensorSpec } from '../../protocol/tensors.js';
import type { AggregateNeeds, AggregateResult, AggregationRound, Aggregator, UpdateSink } from './aggregator.js';
import { DEFAULT_FRACTION_BITS, createFixedPointKernel } from './fixedPointKernel.js';
import { createDoubleDoubleKernel } from './meanKernel.js';
import { SumRangeError, type SumKernel } from './sumKernel.js';
import { DeferredSum } from './deferredSum.js';
import { StagingFileError } from './fileStaging.js';
import type { StreamingMeanOptions } from './streamingMeanOptions.js';
import { fileStage, memoryStage, type UpdateStage } from './updateStage.js';

export { addWeighted, addWeightedCompensated } from './meanKernel.js';
export type { StreamingMeanOptions } from './streamingMeanOptions.js';

/** Models this large (16M parameters, 64 MB a float32 copy) stage in-flight updates in files by default. */
export const FILE_STAGING_MIN_PARAMETERS = 16 * 1024 * 1024;

/** Floats a file-staged run is checked and summed in at once (1 MiB). */
const FILE_STAGING_RUN = 1 << 18;

/** An update cannot be aggregated (wrong length, a non-finite or out-of-range value, a bad weight, a closed round) or the aggregator is misused (not bound); the message says which. */
export class AggregationError extends Error {
  /** Always `AggregationError`. */
  override readonly name = 'AggregationError';
}

/** Weighted mean of client updates in an exact accumulator: FedAvg's aggregation, O(model) memory. */
export class StreamingMean implements Aggregator {
  readonly name = 'mean';
  private size = -1;
  private readonly slotCount: number;
  private readonly preferKernel: 'wasm-simd' | 'js';
  private readonly accumulator: 'fixed-point' | 'double-double';
  private readonly fractionBits: number;
  private readonly stagingChoice: 'memory' | 'file' | undefined;
  private readonly stagingDir: string | undefined;
  private readonly sumAt: 'arrival' | 'close';
  /** Set when the bound model's sum waits for the round to close (`sumAt: 'close'` with file staging); a round that never finished frees its files at the next begin. */
  private deferredSum: DeferredSum | undefined;
  private readonly foldAfter: number;
  /** The staging of the bound model (bind decides the default by its size). */
  private staging: 'memory' | 'file' = 'memory';
  /** A wrapper reads the float64 sum (bind's `needs`): file staging then puts the mean in an array of its own. */
  private keepSum = false;
  private free: Float32Array[] = [];
  /** The accumulator and the slots, allocated once and zeroed per round (first touch of fresh pages is slow). */
  private kernel: SumKernel | undefined;
  /** The accumulator was just allocated, so already zero: the first round skips writing 16 bytes/param. */
  private fresh = false;
  private waiters: ((slot: Float32Array) => void)[] = [];

  constructor(options: StreamingMeanOptions = {}) {
    this.slotCount = options.slots ?? 2;
    this.preferKernel = options.kernel ?? 'wasm-simd';
    this.accumulator = options.accumulator ?? 'fixed-point';
    this.fractionBits = options.fractionBits ?? DEFAULT_FRACTION_BITS;
    this.stagingChoice = options.staging;
    this.stagingDir = options.stagingDir;
    this.sumAt = options.sumAt ?? 'close';
    this.foldAfter = options.foldAfter ?? 4;
    if (!Number.isInteger(this.foldAfter) || this.foldAfter < 1) throw new AggregationError(`foldAfter must be a positive integer, got ${this.foldAfter}`);
    if (this.sumAt !== 'arrival' && this.sumAt !== 'close') throw new AggregationError(`sumAt must be 'arrival' or 'close', got ${String(this.sumAt)}`);
    if (options.sumAt === 'close' && (this.stagingChoice === 'memory' || this.accumulator !== 'fixed-point')) {
      throw new AggregationError("sumAt: 'close' reads committed updates back from their files: it needs staging: 'file' (or the default on a big model) and accumulator: 'fixed-point'");
    }
    if (this.stagingChoice !== undefined && this.stagingChoice !== 'memory' && this.stagingChoice !== 'file') {
      throw new AggregationError(`staging must be 'memory' or 'file', got ${String(this.stagingChoice)}`);
    }
    if (this.stagingChoice === 'file' && this.accumulator !== 'fixed-point') {
      throw new AggregationError("staging: 'file' needs accumulator: 'fixed-point' (a double-double sum cannot take an update back exactly, so it stages each update whole in memory)");
    }
    if (!Number.isInteger(this.slotCount) || this.slotCount < 1) throw new AggregationError(`slots must be a positive integer, got ${this.slotCount}`);
    if (!Number.isInteger(this.fractionBits) || this.fractionBits < 0 || this.fractionBits > 60) {
      throw new AggregationError(`fractionBits must be an integer from 0 to 60, got ${this.fractionBits}`);
    }
  }


  bind(spec: readonly TensorSpec[], needs?: AggregateNeeds): void {
    this.keepSum = needs?.sum === true;
    const size = totalParameters(spec);
    if (size === 0) throw new AggregationError('the model has no parameters');
    const fixedPoint = this.accumulator === 'fixed-point';
    const staging = this.stagingChoice ?? (fixedPoint && size >= FILE_STAGING_MIN_PARAMETERS ? 'file' : 'memory');
    const deferred = this.sumAt === 'close' && staging === 'file' && !this.keepSum;
    if (size !== this.size || deferred !== (this.deferredSum !== undefined)) {
      this.size = size;
      this.staging = staging;
      this.deferredSum?.clear();
      this.deferredSum = undefined;
      if (deferred) {
        // The sum is made a block at a time at the close: a block-sized accumulator, whose one slot is also the run
        // buffer every in-flight update stages through.
        const block = Math.min(size, FILE_STAGING_RUN);
        this.kernel = createFixedPointKernel(block, 1, this.fractionBits, this.preferKernel, block);
        this.free = Array.from({ length: this.slotCount }, () => this.kernel!.slots[0]!);
        this.deferredSum = new DeferredSum(this.kernel, size, this.foldAfter, this.stagingDir);
      } else if (this.staging === 'file') {
        // One run buffer shared by every in-flight update (runs are handled synchronously); the slot count stays the
        // bound on updates in flight, each holding a file.
        this.kernel = createFixedPointKernel(size, 1, this.fractionBits, this.preferKernel, Math.min(size, FILE_STAGING_RUN));
        this.free = Array.from({ length: this.slotCount }, () => this.kernel!.slots[0]!);
      } else {
        this.kernel = fixedPoint
          ? createFixedPointKernel(size, this.slotCount, this.fractionBits, this.preferKernel)
          : createDoubleDoubleKernel(size, this.slotCount, this.preferKernel);
        this.free = [...this.kernel.slots];
      }
      this.fresh = true;
    }
  }

  begin(round: number): AggregationRound {
    const kernel = this.kernel;
    if (!kernel) throw new AggregationError('bind() the aggregator to the model before round 1');
    // One round at a time uses the accumulator: rounds are sequential, and a closed round refuses commits.
    if (!this.fresh) kernel.reset();
    this.fresh = false;
    this.deferredSum?.clear();
    const contributors: string[] = [];
    let totalWeight = 0;
    let closed = false;
    const size = this.size;
    // An exact kernel sums each run as it arrives (still in cache) and takes an update back if it fails later;
    // these take back the updates still in flight when the round closes.
    const deferred = this.deferredSum;
    const streams = kernel.addAt !== undefined && !deferred;
    const inFlight = new Set<() => void>();
    /** Why the sum can no longer be trusted: a staged update could not be read back to take it out. */
    let broken: string | undefined;
    return {
      accept: async (clientId, weight) => {
        if (closed) throw new AggregationError(`round ${round} is closed`);
        if (!(weight > 0) || !Number.isFinite(weight)) throw new AggregationError(`update weight must be positive and finite, got ${weight}`);
        const slot = await this.takeSlot();
        let stage: UpdateStage;
        try {
          stage = this.staging === 'file' ? fileStage(slot, this.stagingDir) : memoryStage(slot);
        } catch (e) {
          this.giveSlot(slot);
          throw new AggregationError(`cannot stage the update from ${clientId}: ${(e as Error).message}`);
        }
        let written = 0;
        /** Values of this update already in the sum (streamed runs), which a failure takes back. */
        let summed = 0;
        let done = false;
        const takeBack = () => {
          try {
            if (summed > 0) stage.replay(summed, (values, offset) => kernel.addAt!(values, offset, -weight));
          } catch (e) {
            broken ??= `the update from ${clientId} could not be taken back out of the sum (${(e as Error).message})`;
          }
          summed = 0;
        };
        inFlight.add(takeBack);
        const release = (keepFile = false) => {
          if (done) return;
          done = true;
          inFlight.delete(takeBack);
          if (!keepFile) stage.release();
          this.giveSlot(slot);
        };
        const fail = () => {
          if (!done) takeBack();
          release();
        };
        const refuse = (message: string): never => {
          fail();
          throw new AggregationError(message);
        };
        /** Stages, checks and (exact kernel) sums one run that fits the stage. */
        const writeRun = (offset: number, values: Float32Array) => {
          // The run is checked right after it is copied, while it is still in cache.
          const staged = stage.place(offset, values);
          if (!kernel.accepts(staged, weight)) refuse(refusal(kernel, values, offset, weight));
          try {
            stage.keep(staged, offset);
          } catch (e) {
            refuse(`update from ${clientId} not staged: ${(e as Error).message}`);
          }
          if (streams) {
            kernel.addAt!(staged, offset, weight);
            summed = offset + values.length;
          }
        };
        const sink: UpdateSink = {
          write: (offset, values) => {
            if (done) throw new AggregationError('update already finished');
            if (closed) refuse(`round ${round} closed before the update from ${clientId} completed`);
            if (offset !== written || offset + values.length > size) {
              refuse(`update values out of place: offset ${offset}, ${values.length} values, model has ${size}`);
            }
            for (let at = 0; at < values.length; at += stage.maxRun) {
              writeRun(offset + at, values.subarray(at, Math.min(values.length, at + stage.maxRun)));
            }
            written += values.length;
          },
          commit: (scale = 1) => {
            if (done) throw new AggregationError('update already finished');
            if (closed) refuse(`round ${round} closed before the update from ${clientId} completed`);
            if (written !== size) refuse(`update has ${written} values, the model has ${size}`);
            if (!(scale >= 0 && scale <= 1)) refuse(`commit scale must be within [0, 1], got ${scale}`);
            if (deferred) {
              totalWeight += weight;
              contributors.push(clientId);
              release(true);
              const why = deferred.add(stage, weight * scale);
              broken ??= why;
              return;
            }
            if (!streams) kernel.add(slot, weight * scale);
            else if (scale !== 1) {
              // Rounded at the scaled weight, as if it had been known from the first run.
              try {
                stage.replay(summed, (values, offset) => {
                  kernel.addAt!(values, offset, -weight);
                  kernel.addAt!(values, offset, weight * scale);
                });
              } catch (e) {
                broken ??= `the update from ${clientId} could not be re-weighted (${(e as Error).message})`;
                summed = 0;
                refuse(broken);
              }
            }
            totalWeight += weight;
            contributors.push(clientId);
            release();
          },
          abort: () => fail(),
        };
        return sink;
      },
      finish: (): AggregateResult => {
        closed = true;
        for (const takeBack of inFlight) takeBack();
        if (broken) {
          deferred?.clear();
          throw new AggregationError(`round ${round}: ${broken}; the round's sum is not used`);
        }
        if (totalWeight === 0) return { mean: undefined, totalWeight: 0, contributors: [] };
        try {
          if (deferred) return { mean: deferred.mean(totalWeight), totalWeight, contributors: [...contributors] };
          if (this.staging === 'file' && !this.keepSum) {
            // No slot to spare: the mean is written over the accumulator itself (zeroed when the next round begins).
            return { mean: kernel.finishInPlace!(totalWeight), totalWeight, contributors: [...contributors] };
          }
          // The mean lands in an idle staging slot instead of a new model-sized array (uploads are over): it is
          // valid until the next round starts staging, which is after the strategy has applied it. File staging has
          // none, so a wrapper that reads the sum costs one (DP's own copies of the sum cost more).
          // The float64 sum is made in place in the accumulator (zeroed when the next round begins).
          const mean = this.staging === 'memory' ? (this.free[this.free.length - 1] ?? new Float32Array(size)) : new Float32Array(size);
          const sum = kernel.finish(mean, totalWeight);
          const grid = kernel.grid === undefined ? {} : { sumGrid: kernel.grid };
          return { mean, totalWeight, contributors: [...contributors], sum, ...grid };
        } catch (e) {
          if (e instanceof SumRangeError) throw new AggregationError(`round ${round}: ${e.message}`);
          if (e instanceof StagingFileError) throw new AggregationError(`round ${round}: a committed update could not be read back (${e.message}); the round's sum is not used`);
          throw e;
        } finally {
          deferred?.clear();
        }
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

/** Why a run was refused: its first non-finite value, or its first value beyond the fixed-point range. */
function refusal(kernel: SumKernel, values: Float32Array, offset: number, weight: number): string {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) return `update has a non-finite value (${values[bad]}) at parameter ${offset + bad}`;
  const limit = kernel.limit(weight);
  const big = values.findIndex((v) => !(Math.abs(v) < limit));
  return (
    `update value ${values[big]} at parameter ${offset + big} times its weight ${weight} leaves the fixed-point range ` +
    `(values of this update must stay below ${limit} in magnitude): lower StreamingMean's fractionBits or use accumulator: 'double-double'`
  );
}
