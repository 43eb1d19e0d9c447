/**
 * What StreamingMean needs from its accumulator: staging slots, a check of staged values, the weighted add,
 * and the mean. Two implementations: the int64 fixed-point sum (fixedPointKernel.ts, the default) and the
 * double-double float sum (meanKernel.ts, for values of any magnitude).
 */
export interface SumKernel {
  /** Which accumulator and loops, for logs and benchmarks (`fixed-point wasm-simd`, `double-double js`...). */
  readonly kind: string;
  /** Staging slots, each one float32 copy of the model. */
  readonly slots: readonly Float32Array[];
  /** The unit each weighted value is rounded to (2^-fractionBits) in a fixed-point sum; absent for a float sum. */
  readonly grid?: number;
  /** Values of an update with this weight must be below this in magnitude (Infinity: any finite value). */
  limit(weight: number): number;
  /** True when every value of `values` (a view of one of the slots) is finite and below limit(weight). */
  accepts(values: Float32Array, weight: number): boolean;
  /** sum += weight * slot. */
  add(slot: Float32Array, weight: number): void;
  /**
   * An exact kernel's add of a run as it arrives: sum[offset..] += weight * values (a view of a slot). Exact, so
   * the same call with -weight takes it back bit for bit: StreamingMean sums each run while it is in cache and
   * undoes an update that fails later. Absent on a float sum, whose additions cannot be undone exactly.
   */
  readonly addAt?: (values: Float32Array, offset: number, weight: number) => void;
  /** Zeroes the sum for the next round. */
  reset(): void;
  /**
   * Writes float32(sum / totalWeight) into `out` and returns the weighted sum as float64 (it may share the
   * accumulator's memory: valid until reset). Throws SumRangeError when the sum left its range.
   */
  finish(out: Float32Array, totalWeight: number): Float64Array;
  /**
   * An exact kernel's mean without a model-sized array of its own: float32(sum / totalWeight) written over the
   * accumulator's memory (each int64 is read before its bytes are reused), valid until reset. No float64 sum is
   * kept. Throws SumRangeError as finish does.
   */
  readonly finishInPlace?: (totalWeight: number) => Float32Array;
  /** An exact kernel's accumulator as bytes (8 a parameter), to save a partial sum and load it back. */
  readonly sumBytes?: () => Uint8Array;
  /** After sumBytes() was loaded with values this kernel did not add: every later add checks for wrapping. */
  readonly forgetBounds?: () => void;
  /** Throws SumRangeError when an addition since the last reset wrapped. */
  readonly checkRange?: () => void;
}

/** A fixed-point sum left its range: the round's mean cannot be computed exactly. */
export class SumRangeError extends Error {
  override readonly name = 'SumRangeError';
}
