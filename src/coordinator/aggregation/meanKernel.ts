import { MEAN_KERNEL_WASM_BASE64 } from './meanKernelWasm.js';
import type { SumKernel } from './sumKernel.js';
import { MAX_WASM_BYTES, PAGE, wasm, type WasmApi } from './wasmRuntime.js';

export { MAX_WASM_BYTES };

/**
 * The memory and hot loops of the streaming mean: a double-double accumulator (sum, compensation) and
 * float32 staging slots, with the three passes an upload goes through (finite check, weighted add, mean).
 * Two implementations round identically: WebAssembly SIMD (meanKernel.wat) and plain JavaScript, used when
 * the model does not fit one 4 GiB WebAssembly memory.
 *
 * StreamingMean's default is the int64 fixed-point sum (fixedPointKernel.ts: half the memory, exact, faster);
 * this one stays for values of any magnitude (raw feature moments, the robust strategies' CollectAll), where a
 * fixed grid that keeps float32 precision for a value of 1e-8 would overflow on a weighted term of 1e4.
 */
export interface MeanKernel {
  readonly kind: 'wasm-simd' | 'js';
  readonly sum: Float64Array;
  readonly compensation: Float64Array;
  /** Staging slots, each one float32 copy of the model. */
  readonly slots: readonly Float32Array[];
  /** True when every value of `values` (a view of one of the slots) is finite. */
  finite(values: Float32Array): boolean;
  /** sum, compensation += weight * slot, by TwoSum. */
  add(slot: Float32Array, weight: number): void;
  /** Folds the compensation into the sum and writes float32(sum / totalWeight) into `out` (a slot, or any array). */
  mean(out: Float32Array, totalWeight: number): void;
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
  const n = staged.length;
  for (let i = 0; i < n; i++) {
    const a = sum[i]!;
    const b = weight * staged[i]!;
    const s = a + b;
    const bv = s - a;
    compensation[i]! += a - (s - bv) + (b - bv);
    sum[i] = s;
  }
}

function finiteJs(values: Float32Array): boolean {
  // x - x is 0 for every finite x and NaN for NaN and +-Infinity.
  let check = 0;
  for (let i = 0; i < values.length; i++) check += values[i]! - values[i]!;
  return check === 0;
}

function meanJs(sum: Float64Array, compensation: Float64Array, out: Float32Array, totalWeight: number): void {
  for (let i = 0; i < out.length; i++) {
    const total = sum[i]! + compensation[i]!;
    sum[i] = total;
    compensation[i] = 0; // so that a second pass gives the same result
    out[i] = total / totalWeight;
  }
}

class JsMeanKernel implements MeanKernel {
  readonly kind = 'js';
  readonly sum: Float64Array;
  readonly compensation: Float64Array;
  readonly slots: Float32Array[];

  constructor(size: number, slots: number) {
    this.sum = new Float64Array(size);
    this.compensation = new Float64Array(size);
    this.slots = Array.from({ length: slots }, () => new Float32Array(size));
  }

  finite(values: Float32Array): boolean {
    return finiteJs(values);
  }

  add(slot: Float32Array, weight: number): void {
    addWeightedCompensated(this.sum, this.compensation, slot, weight);
  }

  mean(out: Float32Array, totalWeight: number): void {
    meanJs(this.sum, this.compensation, out, totalWeight);
  }
}

interface KernelExports {
  finite(p: number, n: number): number;
  add(qs: number, qc: number, n: number, p: number, weight: number): void;
  mean(qs: number, qc: number, out: number, n: number, weight: number): void;
}

let compiled: object | undefined;

/** Layout in one memory: sums, compensations (float64), then the slots (float32), each 16-byte aligned. */
class WasmMeanKernel implements MeanKernel {
  readonly kind = 'wasm-simd';
  readonly sum: Float64Array;
  readonly compensation: Float64Array;
  readonly slots: Float32Array[];
  private readonly run: KernelExports;

  constructor(api: WasmApi, readonly size: number, slots: number, bytes: number) {
    const memory = new api.Memory({ initial: Math.ceil(bytes / PAGE) });
    compiled ??= new api.Module(Buffer.from(MEAN_KERNEL_WASM_BASE64, 'base64'));
    this.run = new api.Instance(compiled, { env: { memory } }).exports as KernelExports;
    const padded = size + (size % 4 === 0 ? 0 : 4 - (size % 4));
    this.sum = new Float64Array(memory.buffer, 0, size);
    this.compensation = new Float64Array(memory.buffer, padded * 8, size);
    this.slots = Array.from({ length: slots }, (_, k) => new Float32Array(memory.buffer, padded * (16 + 4 * k), size));
  }

  finite(values: Float32Array): boolean {
    // An array outside this memory has no address here.
    if (!this.owns(values)) return finiteJs(values);
    const simd = values.length - (values.length % 16);
    if (simd > 0 && this.run.finite(values.byteOffset, simd) !== 1) return false;
    return simd === values.length || finiteJs(values.subarray(simd));
  }

  add(slot: Float32Array, weight: number): void {
    if (!this.owns(slot)) return addWeightedCompensated(this.sum, this.compensation, slot, weight);
    const simd = this.size - (this.size % 4);
    this.run.add(this.sum.byteOffset, this.compensation.byteOffset, simd, slot.byteOffset, weight);
    if (simd < this.size) addWeightedCompensated(this.sum.subarray(simd), this.compensation.subarray(simd), slot.subarray(simd), weight);
  }

  mean(out: Float32Array, totalWeight: number): void {
    // The mean goes to a fresh array when every slot is busy.
    if (!this.owns(out)) return meanJs(this.sum, this.compensation, out, totalWeight);
    const simd = this.size - (this.size % 2);
    this.run.mean(this.sum.byteOffset, this.compensation.byteOffset, out.byteOffset, simd, totalWeight);
    if (simd < this.size) meanJs(this.sum.subarray(simd), this.compensation.subarray(simd), out.subarray(simd), totalWeight);
  }

  private owns(values: Float32Array): boolean {
    return values.buffer === this.sum.buffer;
  }
}

/**
 * The WebAssembly SIMD kernel when the accumulator and `slots` staging slots fit one WebAssembly memory
 * (up to about 178M parameters with two slots), else the JavaScript one; `prefer: 'js'` forces the latter.
 */
export function createMeanKernel(size: number, slots: number, prefer: 'wasm-simd' | 'js' = 'wasm-simd'): MeanKernel {
  const bytes = wasmKernelBytes(size, slots);
  // A page short of the limit, so that no loop's end address wraps past 2^32.
  if (prefer === 'wasm-simd' && wasm && bytes <= MAX_WASM_BYTES - PAGE) return new WasmMeanKernel(wasm, size, slots, bytes);
  return new JsMeanKernel(size, slots);
}

/** Bytes of WebAssembly memory the SIMD kernel needs for `size` parameters and `slots` slots. */
export function wasmKernelBytes(size: number, slots: number): number {
  const padded = size + (size % 4 === 0 ? 0 : 4 - (size % 4));
  return padded * (16 + 4 * slots);
}

/** The double-double kernel behind StreamingMean's SumKernel seam: any finite value, no range to leave. */
export function createDoubleDoubleKernel(size: number, slots: number, prefer: 'wasm-simd' | 'js' = 'wasm-simd'): SumKernel {
  const kernel = createMeanKernel(size, slots, prefer);
  return {
    kind: `double-double ${kernel.kind}`,
    slots: kernel.slots,
    limit: () => Infinity,
    accepts: (values) => kernel.finite(values),
    add: (slot, weight) => kernel.add(slot, weight),
    reset: () => {
      kernel.sum.fill(0);
      kernel.compensation.fill(0);
    },
    finish: (out, totalWeight) => {
      kernel.mean(out, totalWeight);
      return kernel.sum;
    },
  };
}
