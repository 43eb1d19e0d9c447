import { INT8_BLOCK } from '../../protocol/compression.js';
import { INT8_MAX_LEVEL, type QuantizedUpdate } from '../../protocol/compressedFormat.js';
import type { SeededRng } from '../../protocol/seededRng.js';
import type { TensorSpec } from '../../protocol/tensors.js';

/**
 * 8-bit quantization with stochastic rounding (QSGD, Alistarh et al. 2017, with 127 levels a side and one scale
 * per block of INT8_BLOCK values): x / scale is rounded down or up with the probability of its fractional part,
 * so each decoded value is an unbiased estimate of x and its error is below one scale step. The scale is the
 * block's largest magnitude over 127, so no level is ever clipped. The coins come from `rng`: a compressed upload
 * is post-processing of what the client would send anyway, and a seeded stream keeps reruns identical.
 */
export function quantizeInt8(values: Float32Array, spec: readonly TensorSpec[], rng: SeededRng): QuantizedUpdate {
  const blocks = Math.ceil(values.length / INT8_BLOCK);
  const scales = new Float32Array(blocks);
  const levels = new Int8Array(values.length);
  for (let b = 0; b < blocks; b++) {
    const from = b * INT8_BLOCK;
    const to = Math.min(values.length, from + INT8_BLOCK);
    let largest = 0;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) throw new Error(`the update has a non-finite value (${v}) at ${i}: it cannot be compressed`);
      largest = Math.max(largest, Math.abs(v));
    }
    // Rounded up to float32, so |x| / scale <= 127 for every x of the block.
    let scale = Math.fround(largest / INT8_MAX_LEVEL);
    if (scale * INT8_MAX_LEVEL < largest) scale = nextFloat32Up(scale);
    scales[b] = scale;
    if (scale === 0) continue;
    for (let i = from; i < to; i++) {
      const y = values[i]! / scale;
      const floor = Math.floor(y);
      const level = floor + (rng.nextFloat() < y - floor ? 1 : 0);
      levels[i] = Math.max(-INT8_MAX_LEVEL, Math.min(INT8_MAX_LEVEL, level));
    }
  }
  return { method: 'int8', spec, scales, levels };
}

/** The smallest float32 above a positive float32. */
function nextFloat32Up(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer);
  bits[0]! += 1;
  return new Float32Array(bits.buffer)[0]!;
}
