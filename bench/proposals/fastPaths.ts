/**
 * PROPOSAL PROTOTYPES (not Cohort's code) of the upload path, for bench/aggregation.ts --proposals:
 * what decoding with zero-copy views, a fused copy+finite check, and the SIMD kernel would reach.
 */
import { addWeightedCompensated } from '../../src/coordinator/aggregation/streamingMean.js';
import { SimdMeanKernel } from './wasmSimdKernel.js';

/**
 * Float32 runs of an encoded payload as views over the chunks where they are 4-byte aligned (the
 * proposed TensorStreamDecoder change), copies otherwise. Prototype limits: the header must sit in the
 * first chunk, and no value may straddle two chunks.
 */
export function* valueViews(chunks: readonly Uint8Array[]): Generator<[offset: number, values: Float32Array]> {
  let offset = 0;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    let pos = 0;
    if (i === 0) {
      const headerLength = new DataView(chunk.buffer, chunk.byteOffset).getUint32(4, true);
      pos = 8 + headerLength + ((4 - (headerLength % 4)) % 4);
    }
    if ((chunk.length - pos) % 4 !== 0) throw new Error('prototype: a value straddles two chunks');
    const start = chunk.byteOffset + pos;
    const count = (chunk.length - pos) / 4;
    const values = start % 4 === 0 ? new Float32Array(chunk.buffer, start, count) : new Float32Array(chunk.slice(pos).buffer);
    yield [offset, values];
    offset += count;
  }
}

/** Copies into the slot and checks finiteness in one pass (x - x is 0 for finite x, NaN otherwise). */
function copyFinite(slot: Float32Array, values: Float32Array, offset: number): boolean {
  const n = values.length;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    slot[offset + i] = x;
    acc += x - x;
  }
  return acc === 0;
}

function meanOf(sum: Float64Array, compensation: Float64Array, total: number): Float32Array {
  const mean = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) mean[i] = (sum[i]! + compensation[i]!) / total;
  return mean;
}

/** JS only: views, fused copy+check while staging, then the same addWeightedCompensated as today. */
export function jsFastPath(payloads: readonly (readonly Uint8Array[])[], weights: readonly number[], slot: Float32Array): Float32Array {
  const sum = new Float64Array(slot.length);
  const compensation = new Float64Array(slot.length);
  let total = 0;
  payloads.forEach((chunks, k) => {
    for (const [offset, values] of valueViews(chunks)) if (!copyFinite(slot, values, offset)) throw new Error('non-finite value');
    addWeightedCompensated(sum, compensation, slot, weights[k]!);
    total += weights[k]!;
  });
  return meanOf(sum, compensation, total);
}

/** Views staged into wasm memory with Uint8Array.set-speed copies, then the SIMD check and add. */
export function simdFastPath(payloads: readonly (readonly Uint8Array[])[], weights: readonly number[], kernel: SimdMeanKernel): Float32Array {
  kernel.sum.fill(0);
  kernel.compensation.fill(0);
  let total = 0;
  payloads.forEach((chunks, k) => {
    // Each run is checked right after it is staged, while it is still in cache.
    for (const [offset, values] of valueViews(chunks)) {
      kernel.slot.set(values, offset);
      if (!kernel.slotFinite(offset, values.length)) throw new Error('non-finite value');
    }
    kernel.addSlot(weights[k]!);
    total += weights[k]!;
  });
  return meanOf(kernel.sum, kernel.compensation, total);
}
