import { describe, expect, it } from 'vitest';
import { MAX_WASM_BYTES, createMeanKernel, wasmKernelBytes, type MeanKernel } from '../../src/coordinator/aggregation/meanKernel.js';
import { MEAN_KERNEL_WASM_BASE64 } from '../../src/coordinator/aggregation/meanKernelWasm.js';
import { assembleKernel } from '../../scripts/assembleKernel.js';
import { bits, magnitudeValues } from '../helpers/magnitudeValues.js';

const values = (n: number, seed: number): Float32Array => magnitudeValues(n, seed, -6, 12);

/** Stages and adds each update through `kernel`, then takes the mean into its first slot. */
function run(kernel: MeanKernel, updates: readonly { values: Float32Array; weight: number }[]): Float32Array {
  let total = 0;
  for (const u of updates) {
    const slot = kernel.slots[1]!;
    slot.set(u.values);
    expect(kernel.finite(slot)).toBe(true);
    kernel.add(slot, u.weight);
    total += u.weight;
  }
  kernel.mean(kernel.slots[0]!, total);
  return kernel.slots[0]!;
}

describe('mean kernel', () => {
  it('ships the bytes that meanKernel.wat assembles to (rerun scripts/assembleKernel.ts after editing the .wat)', async () => {
    const assembled = await assembleKernel();
    expect(Buffer.from(assembled).toString('base64')).toBe(MEAN_KERNEL_WASM_BASE64);
  });

  it('rounds exactly as the JavaScript loops: sums, compensations and mean bit for bit, at 100k+ parameters', () => {
    // 100,003: the SIMD loops take multiples of 16, 8 and 2 values, so every remainder path runs too.
    const size = 100_003;
    const updates = Array.from({ length: 9 }, (_, k) => ({ values: values(size, k + 11), weight: 1 + ((k * 7919) % 5000) }));
    const simd = createMeanKernel(size, 2);
    const js = createMeanKernel(size, 2, 'js');
    expect(simd.kind).toBe('wasm-simd');
    expect(js.kind).toBe('js');
    const simdMean = run(simd, updates);
    const jsMean = run(js, updates);
    expect(bits(simd.sum).equals(bits(js.sum))).toBe(true);
    expect(bits(simd.compensation).equals(bits(js.compensation))).toBe(true);
    expect(bits(simdMean).equals(bits(jsMean))).toBe(true);
    // The compensation mattered (the data is not one where a plain sum is already exact), and was folded in.
    expect(simd.compensation.every((c) => c === 0)).toBe(true);
    const plain = new Float64Array(size);
    for (const u of updates) for (let i = 0; i < size; i++) plain[i]! += u.weight * u.values[i]!;
    expect(plain.some((v, i) => v !== simd.sum[i])).toBe(true);
  });

  it('finds a NaN or an infinity at any position, in the SIMD body and in the remainder', () => {
    const kernel = createMeanKernel(53, 1);
    const slot = kernel.slots[0]!;
    const edge = [0, -0, 1e-45, -3.4028234663852886e38, 3.4028234663852886e38];
    slot.set(values(53, 3));
    slot.set(edge, 20);
    expect(kernel.finite(slot)).toBe(true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (let i = 0; i < slot.length; i++) {
        const kept = slot[i]!;
        slot[i] = bad;
        expect(kernel.finite(slot)).toBe(false);
        // Runs that start anywhere inside the slot, as the decoder hands them over.
        expect(kernel.finite(slot.subarray(i % 7, Math.min(slot.length, i + 17)))).toBe(false);
        slot[i] = kept;
      }
    }
    expect(kernel.finite(slot.subarray(5, 40))).toBe(true);
  });

  it('takes arrays outside its memory too: the mean when every slot is busy, a check or an add', () => {
    const kernel = createMeanKernel(10, 1);
    kernel.slots[0]!.set(Float32Array.from({ length: 10 }, (_, i) => i));
    kernel.add(kernel.slots[0]!, 3);
    kernel.add(Float32Array.from({ length: 10 }, () => 1), 2);
    const out = new Float32Array(10);
    kernel.mean(out, 2);
    expect(Array.from(out)).toEqual(Array.from({ length: 10 }, (_, i) => (3 * i + 2) / 2));
    expect(kernel.finite(Float32Array.from({ length: 20 }, (_, i) => (i === 17 ? NaN : i)))).toBe(false);
    expect(kernel.finite(new Float32Array(20))).toBe(true);
  });

  it('falls back to JavaScript only when the accumulator and slots outgrow one WebAssembly memory', () => {
    expect(wasmKernelBytes(100_000_000, 2)).toBeLessThanOrEqual(MAX_WASM_BYTES);
    expect(wasmKernelBytes(180_000_000, 2)).toBeGreaterThan(MAX_WASM_BYTES);
    expect(wasmKernelBytes(5, 1)).toBe(8 * 20);
  });
});
