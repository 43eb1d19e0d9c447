/**
 * PROPOSAL PROTOTYPE (not Cohort's code): FedAvg's two hot loops as WebAssembly SIMD, hand-assembled so
 * no toolchain is needed. `finite(p, n)` is 1 when the n float32 values at p are all finite (it sums
 * x - x, which is 0 for finite x and NaN otherwise); `add(qs, qc, p, n, w)` is addWeightedCompensated
 * (sum and compensation += w * x[i] by TwoSum) over f64x2 lanes. Wasm never fuses multiply-add, so it
 * rounds exactly as the JS loop does. n must be a multiple of 16; pointers are byte offsets in memory.
 */
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const [I32, F64, V128] = [0x7f, 0x7c, 0x7b];
const simd = (op: number, ...immediates: number[]) => [0xfd, ...uleb(op), ...immediates];
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32 = (v: number) => [0x41, ...sleb(v)];
const [I32_ADD, I32_SHL, I32_GE_U, BLOCK, LOOP, BR, BR_IF, END, VOID] = [0x6a, 0x74, 0x4f, 0x02, 0x03, 0x0c, 0x0d, 0x0b, 0x40];
const [V128_LOAD, V128_STORE, LOAD64_ZERO, F64X2_SPLAT, F32X4_EQ, I32X4_ALL_TRUE, F32X4_ADD, F32X4_SUB, F64X2_ADD, F64X2_SUB, F64X2_MUL, PROMOTE_LOW] =
  [0x00, 0x0b, 0x5d, 0x14, 0x41, 0xa3, 0xe4, 0xe5, 0xf0, 0xf1, 0xf2, 0x5f];

/** while (p < end) { body; p += pStep; q += qStep } with p, end, q as locals. */
const loop = (p: number, end: number, body: number[], steps: [number, number][]) => [
  BLOCK, VOID, LOOP, VOID,
  ...get(p), ...get(end), I32_GE_U, BR_IF, 1,
  ...body,
  ...steps.flatMap(([local, by]) => [...get(local), ...i32(by), I32_ADD, ...set(local)]),
  BR, 0, END, END,
];

// add(qs: sum ptr, qc: compensation ptr, p: values ptr, n, w): the double-double accumulation of
// addWeightedCompensated (Knuth's TwoSum), 8 values per iteration.
// Locals: 5 = end, 6 = w splat, 7 = a, 8 = b, 9 = s, 10 = bv.
const [QS, QC, P, N, W, END_, WV, A, B, S, BV] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const addStep = (pOff: number, qOff: number) => [
  ...get(QS), ...simd(V128_LOAD, 4, ...uleb(qOff)), ...set(A),
  ...get(P), ...simd(LOAD64_ZERO, 3, ...uleb(pOff)), ...simd(PROMOTE_LOW), ...get(WV), ...simd(F64X2_MUL), ...set(B),
  ...get(A), ...get(B), ...simd(F64X2_ADD), ...set(S),
  ...get(S), ...get(A), ...simd(F64X2_SUB), ...set(BV),
  ...get(QC),
  ...get(QC), ...simd(V128_LOAD, 4, ...uleb(qOff)),
  ...get(A), ...get(S), ...get(BV), ...simd(F64X2_SUB), ...simd(F64X2_SUB),
  ...get(B), ...get(BV), ...simd(F64X2_SUB),
  ...simd(F64X2_ADD), ...simd(F64X2_ADD),
  ...simd(V128_STORE, 4, ...uleb(qOff)),
  ...get(QS), ...get(S), ...simd(V128_STORE, 4, ...uleb(qOff)),
];
const addBody = [
  ...vec([[1, I32], [5, V128]]),
  ...get(W), ...simd(F64X2_SPLAT), ...set(WV),
  ...get(P), ...get(N), ...i32(2), I32_SHL, I32_ADD, ...set(END_),
  ...loop(P, END_, [...addStep(0, 0), ...addStep(8, 16), ...addStep(16, 32), ...addStep(24, 48)], [[P, 32], [QS, 64], [QC, 64]]),
  END,
];
// finite(p, n) -> i32: locals 2 = end, 3 = acc, 4 = x. 16 values per iteration.
const finiteStep = (off: number) => [...get(3), ...get(0), ...simd(V128_LOAD, 4, ...uleb(off)), 0x22, 4, ...get(4), ...simd(F32X4_SUB), ...simd(F32X4_ADD), ...set(3)];
const finiteBody = [
  ...vec([[1, I32], [2, V128]]),
  ...get(0), ...get(1), ...i32(2), I32_SHL, I32_ADD, ...set(2),
  ...loop(0, 2, [0, 16, 32, 48].flatMap(finiteStep), [[0, 64]]),
  ...get(3), ...get(3), ...simd(F32X4_EQ), ...simd(I32X4_ALL_TRUE),
  END,
];
const moduleBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [F64]]), 0], [0x60, ...vec([[I32], [I32]]), 1, I32]])),
  ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
  ...section(3, vec([[0], [1]])),
  ...section(7, vec([[...name('add'), 0x00, 0], [...name('finite'), 0x00, 1]])),
  ...section(10, vec([[...uleb(addBody.length), ...addBody], [...uleb(finiteBody.length), ...finiteBody]])),
]);

/** The slice of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The double-double accumulator and one float32 staging slot in wasm memory, with the SIMD kernels. */
export class SimdMeanKernel {
  readonly sum: Float64Array;
  readonly compensation: Float64Array;
  readonly slot: Float32Array;
  private readonly exports: { add(qs: number, qc: number, p: number, n: number, w: number): void; finite(p: number, n: number): number };

  constructor(readonly size: number) {
    if (size % 16 !== 0) throw new Error(`the prototype kernel needs a multiple of 16 values, got ${size}`);
    const memory = new wasm.Memory({ initial: Math.ceil((size * 20) / 65_536) });
    this.exports = new wasm.Instance(new wasm.Module(moduleBytes), { env: { memory } }).exports as SimdMeanKernel['exports'];
    this.sum = new Float64Array(memory.buffer, 0, size);
    this.compensation = new Float64Array(memory.buffer, size * 8, size);
    this.slot = new Float32Array(memory.buffer, size * 16, size);
  }

  /** Checks `count` staged values from `offset` (a multiple of 16 values; the remainder is checked in JS). */
  slotFinite(offset = 0, count = this.size): boolean {
    const simd = count - (count % 16);
    if (simd > 0 && this.exports.finite(this.size * 16 + offset * 4, simd) !== 1) return false;
    for (let i = offset + simd; i < offset + count; i++) if (!Number.isFinite(this.slot[i]!)) return false;
    return true;
  }

  addSlot(weight: number): void {
    this.exports.add(0, this.size * 8, this.size * 16, this.size, weight);
  }
}
