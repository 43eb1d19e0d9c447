import { FIXED_POINT_KERNEL_WASM_BASE64 } from './fixedPointKernelWasm.js';
import { SumRangeError, type SumKernel } from './sumKernel.js';
import { MAX_WASM_BYTES, PAGE, wasm, type WasmApi } from './wasmRuntime.js';

/**
 * The weighted sum as int64 fixed point: each weighted value w * x is rounded once, to the nearest multiple
 * of 2^-F (ties to even), and the integers are added. Integer addition is exact and associative, so the sum,
 * and the mean, are bit-identical whatever order the updates arrive in, with half the memory of a
 * double-double sum (8 bytes a parameter instead of 16) and no compensation pass.
 *
 * Range and grid (F = fractionBits, 32 by default): one weighted value must stay below 2^(62-F) in magnitude
 * (2^30, about 1.07e9, at F = 32; an update beyond it is refused before it touches the sum), and the weighted
 * sum of a parameter below 2^(63-F) (2^31 at F = 32; a sum that leaves it fails the round, never wraps
 * silently). Weights count examples, so the range is what large federations need: 100 sites of a million
 * examples with weights up to 10 fit. The mean errs from the exact weighted mean by at most n 2^-(F+1) /
 * totalWeight for n updates: at most 1.2e-10 at F = 32 when every weight is at least 1, finer than float32
 * keeps for any mean above 2^-9 (0.002) in magnitude. F = 40 gives 2^-41 for 256x less range.
 */
export const DEFAULT_FRACTION_BITS = 32;

/** round(p), ties to even, as WebAssembly's f64.nearest and the kernel's 1.5 * 2^52 trick both round. */
function roundHalfEven(p: number): number {
  const r = Math.round(p);
  return r - p === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const TWO_32 = 4_294_967_296;

/**
 * acc += round(scale * x) over the arrays, exactly; true when an addition wrapped past int64. Each int64 is
 * handled as its two 32-bit halves (little-endian: low word unsigned, high word signed), so no BigInt is made:
 * q (an integer below 2^63, exact in float64) splits exactly into q_hi 2^32 + q_lo with 0 <= q_lo < 2^32.
 */
function addExact(acc: BigInt64Array, x: Float32Array, scale: number): boolean {
  const lo = new Uint32Array(acc.buffer, acc.byteOffset, acc.length * 2);
  const hi = new Int32Array(acc.buffer, acc.byteOffset, acc.length * 2);
  let wrapped = false;
  for (let i = 0; i < x.length; i++) {
    const q = roundHalfEven(x[i]! * scale);
    if (!(Math.abs(q) < 2 ** 63)) wrapped = true;
    const qHi = Math.floor(q / TWO_32);
    const low = lo[2 * i]! + (q - qHi * TWO_32);
    const carry = low >= TWO_32 ? 1 : 0;
    const high = hi[2 * i + 1]! + qHi + carry;
    if (high > 2_147_483_647 || high < -2_147_483_648) wrapped = true;
    lo[2 * i] = low; // typed arrays store modulo 2^32
    hi[2 * i + 1] = high;
  }
  return wrapped;
}

function inRange(values: Float32Array, bound: number): boolean {
  for (let i = 0; i < values.length; i++) if (!(Math.abs(values[i]!) < bound)) return false;
  return true;
}

/** In place: each int64 becomes the float64 acc * unit (the weighted sum); out gets float32(sum / weight). */
function meanExact(acc: BigInt64Array, out: Float32Array, unit: number, weight: number): Float64Array {
  // Also right when `out` starts at the accumulator's own first byte: value i is read (bytes 8i..8i+8) before
  // anything is written at or past byte 8i (sum i, then mean i at 4i).
  const lo = new Uint32Array(acc.buffer, acc.byteOffset, acc.length * 2);
  const hi = new Int32Array(acc.buffer, acc.byteOffset, acc.length * 2);
  const sum = new Float64Array(acc.buffer, acc.byteOffset, acc.length);
  for (let i = 0; i < acc.length; i++) {
    // hi 2^32 and lo are exact, so their one addition rounds the int64 to nearest, as f64.convert_i64_s does.
    const s = (hi[2 * i + 1]! * TWO_32 + lo[2 * i]!) * unit;
    sum[i] = s;
    out[i] = s / weight;
  }
  return sum;
}

/** The largest float32 strictly below 2^(62-F) / weight: a value under it keeps |w x 2^F| below 2^62. */
function limitFor(fractionBits: number, weight: number): number {
  const exact = 2 ** (62 - fractionBits) / weight;
  const f = Math.fround(exact);
  return f > exact ? Math.fround(f - f * 2 ** -24) : f;
}

abstract class FixedPointBase implements SumKernel {
  abstract readonly kind: string;
  abstract readonly slots: readonly Float32Array[];
  readonly grid: number;
  protected wrapped = false;
  protected readonly scaleUnit: number;

  constructor(
    protected readonly acc: BigInt64Array,
    readonly fractionBits: number,
  ) {
    this.grid = 2 ** -fractionBits;
    this.scaleUnit = 2 ** fractionBits;
  }

  limit(weight: number): number {
    return limitFor(this.fractionBits, weight);
  }

  abstract accepts(values: Float32Array, weight: number): boolean;
  abstract addAt(values: Float32Array, offset: number, weight: number): void;

  add(slot: Float32Array, weight: number): void {
    this.addAt(slot, 0, weight);
  }
  protected abstract meanInto(out: Float32Array, totalWeight: number): Float64Array;

  reset(): void {
    this.acc.fill(0n);
    this.wrapped = false;
  }

  finish(out: Float32Array, totalWeight: number): Float64Array {
    this.checkRange();
    return this.meanInto(out, totalWeight);
  }

  finishInPlace(totalWeight: number): Float32Array {
    this.checkRange();
    const mean = new Float32Array(this.acc.buffer, this.acc.byteOffset, this.acc.length);
    this.meanInto(mean, totalWeight);
    return mean;
  }

  sumBytes(): Uint8Array {
    return new Uint8Array(this.acc.buffer, this.acc.byteOffset, this.acc.byteLength);
  }

  /** The reference's adds always check for wrapping: nothing to forget. */
  forgetBounds(): void {}

  checkRange(): void {
    if (this.wrapped) {
      throw new SumRangeError(
        `a parameter's weighted sum left the fixed-point range of +-2^${63 - this.fractionBits} (grid 2^-${this.fractionBits}): ` +
          'lower fractionBits (a coarser grid with a wider range) or use the double-double accumulator',
      );
    }
  }
}

/** The reference: plain JavaScript on 32-bit halves (also the fallback past one WebAssembly memory). */
class JsFixedPointKernel extends FixedPointBase {
  readonly kind = 'fixed-point js';
  readonly slots: Float32Array[];

  constructor(size: number, slots: number, fractionBits: number, slotLength: number) {
    super(new BigInt64Array(size), fractionBits);
    this.slots = Array.from({ length: slots }, () => new Float32Array(slotLength));
  }

  accepts(values: Float32Array, weight: number): boolean {
    return inRange(values, this.limit(weight));
  }

  addAt(values: Float32Array, offset: number, weight: number): void {
    if (addExact(this.acc.subarray(offset, offset + values.length), values, weight * this.scaleUnit)) this.wrapped = true;
  }

  protected meanInto(out: Float32Array, totalWeight: number): Float64Array {
    return meanExact(this.acc, out, this.grid, totalWeight);
  }
}

interface KernelExports {
  maxabs(p: number, n: number): number;
  addsmall(qa: number, n: number, p: number, scale: number): void;
  add(qa: number, n: number, p: number, scale: number): number;
  mean(qa: number, out: number, n: number, unit: number, weight: number): void;
}

let compiled: object | undefined;
/** Parameters per block of the reach bookkeeping (a float64 per block: 0.2 bytes a thousand parameters). */
const REACH_BLOCK = 1 << 15;

/** Layout in one memory: the int64 sums, then the float32 slots, each 16-byte aligned. */
class WasmFixedPointKernel extends FixedPointBase {
  readonly kind = 'fixed-point wasm-simd';
  readonly slots: Float32Array[];
  private readonly run: KernelExports;
  /** The run accepts() just measured, and its largest magnitude: the run addAt() is usually given next. */
  private checked: { readonly values: Float32Array; readonly max: number } | undefined;
  /** Per block of REACH_BLOCK parameters, an upper bound on |sum| over the round's adds: below 2^62, nothing wrapped. */
  private readonly reach: Float64Array;

  constructor(api: WasmApi, size: number, slots: number, fractionBits: number, slotLength: number, bytes: number) {
    const memory = new api.Memory({ initial: Math.ceil(bytes / PAGE) });
    super(new BigInt64Array(memory.buffer, 0, size), fractionBits);
    compiled ??= new api.Module(Buffer.from(FIXED_POINT_KERNEL_WASM_BASE64, 'base64'));
    this.run = new api.Instance(compiled, { env: { memory } }).exports as KernelExports;
    const sums = paddedSize(size) * 8;
    const slotBytes = paddedSize(slotLength) * 4;
    this.slots = Array.from({ length: slots }, (_, k) => new Float32Array(memory.buffer, sums + slotBytes * k, slotLength));
    this.reach = new Float64Array(Math.ceil(size / REACH_BLOCK));
  }

  accepts(values: Float32Array, weight: number): boolean {
    if (!this.owns(values)) return inRange(values, this.limit(weight));
    // One pass gives the check and the bound addAt needs next for the same run (NaN fails the comparison).
    const max = this.maxAbs(values);
    this.checked = { values, max };
    return max < this.limit(weight);
  }

  addAt(values: Float32Array, offset: number, weight: number): void {
    const scale = weight * this.scaleUnit;
    const acc = this.acc.subarray(offset, offset + values.length);
    if (!this.owns(values)) {
      if (addExact(acc, values, scale)) this.wrapped = true;
      return;
    }
    const n = values.length;
    const simd = n - (n % 4);
    // Terms below 2^51 round with one magic add, and where every sum's bound stays below 2^62 no addition can
    // wrap: the common case, at about twice the speed of the general loop, which checks.
    const bound = Math.abs(scale) * (this.checked?.values === values ? this.checked.max : this.maxAbs(values));
    this.checked = undefined;
    const small = bound < 2 ** 51 && this.extendReach(offset, n, bound + 1);
    if (simd > 0) {
      if (small) this.run.addsmall(acc.byteOffset, simd, values.byteOffset, scale);
      else if (this.run.add(acc.byteOffset, simd, values.byteOffset, scale) !== 0) this.wrapped = true;
    }
    if (simd < n && addExact(acc.subarray(simd), values.subarray(simd), scale)) this.wrapped = true;
  }

  /**
   * Adds `bound` to the reach of every block of parameters [offset, offset + n) touches; true while each stays
   * below 2^62: then no sum in them can have wrapped, since |sum| <= the bounds of the terms added.
   */
  private extendReach(offset: number, n: number, bound: number): boolean {
    const first = Math.floor(offset / REACH_BLOCK);
    const last = Math.floor((offset + n - 1) / REACH_BLOCK);
    let within = true;
    for (let b = first; b <= last; b++) {
      this.reach[b]! += bound;
      if (!(this.reach[b]! < 2 ** 62)) within = false;
    }
    return within;
  }

  override reset(): void {
    super.reset();
    this.reach.fill(0);
  }

  /** Loaded sums have no known bound: the adds take the general loop, which checks every addition. */
  override forgetBounds(): void {
    this.reach.fill(Infinity);
  }

  private maxAbs(values: Float32Array): number {
    const simd = values.length - (values.length % 16);
    let max = simd > 0 ? this.run.maxabs(values.byteOffset, simd) : 0;
    for (let i = simd; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
    return max;
  }

  protected meanInto(out: Float32Array, totalWeight: number): Float64Array {
    if (!this.owns(out)) return meanExact(this.acc, out, this.grid, totalWeight);
    this.run.mean(this.acc.byteOffset, out.byteOffset, out.length, this.grid, totalWeight);
    return new Float64Array(this.acc.buffer, this.acc.byteOffset, this.acc.length);
  }

  private owns(values: Float32Array): boolean {
    return values.buffer === this.acc.buffer;
  }
}

function paddedSize(size: number): number {
  return size + (size % 4 === 0 ? 0 : 4 - (size % 4));
}

/** Bytes of WebAssembly memory the fixed-point kernel needs for `size` parameters and `slots` slots of `slotLength` floats. */
export function fixedPointKernelBytes(size: number, slots: number, slotLength = size): number {
  return paddedSize(size) * 8 + paddedSize(slotLength) * 4 * slots;
}

/**
 * The WebAssembly SIMD kernel when the sums and `slots` staging slots fit one WebAssembly memory (up to about
 * 268M parameters with two whole-model slots, 536M with run-sized ones), else the exact JavaScript one;
 * `prefer: 'js'` forces the latter. `slotLength` (the model's size by default) is shorter when updates are staged
 * elsewhere (a file) and a slot only holds the run being checked and summed.
 */
export function createFixedPointKernel(
  size: number,
  slots: number,
  fractionBits = DEFAULT_FRACTION_BITS,
  prefer: 'wasm-simd' | 'js' = 'wasm-simd',
  slotLength = size,
): SumKernel {
  if (!Number.isInteger(fractionBits) || fractionBits < 0 || fractionBits > 60) {
    throw new RangeError(`fractionBits must be an integer from 0 to 60, got ${fractionBits}`);
  }
  const bytes = fixedPointKernelBytes(size, slots, slotLength);
  // A page short of the limit, so that no loop's end address wraps past 2^32.
  if (prefer === 'wasm-simd' && wasm && bytes <= MAX_WASM_BYTES - PAGE) return new WasmFixedPointKernel(wasm, size, slots, fractionBits, slotLength, bytes);
  return new JsFixedPointKernel(size, slots, fractionBits, slotLength);
}
