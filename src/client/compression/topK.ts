import type { SparseUpdate } from '../../protocol/compressedFormat.js';
import type { TensorSpec } from '../../protocol/tensors.js';

/**
 * Top-k sparsification (Aji and Heafield 2017): the k values largest in magnitude, indices ascending. Ties at the
 * threshold go to the lower indices, so the choice is deterministic. O(n log n) in a sort of the magnitudes
 * (typed-array sort, about 20 ms for 200k values): simple, and small beside the training it follows.
 */
export function topK(values: Float32Array, spec: readonly TensorSpec[], k: number): SparseUpdate {
  if (!Number.isInteger(k) || k < 1 || k > values.length) throw new Error(`top-k needs k from 1 to ${values.length}, got ${k}`);
  const magnitudes = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new Error(`the update has a non-finite value (${v}) at ${i}: it cannot be compressed`);
    magnitudes[i] = Math.abs(v);
  }
  const threshold = magnitudes.slice().sort()[values.length - k]!;
  let above = 0;
  for (let i = 0; i < values.length; i++) if (magnitudes[i]! > threshold) above++;
  let ties = k - above;
  const indices = new Uint32Array(k);
  const kept = new Float32Array(k);
  let n = 0;
  for (let i = 0; i < values.length && n < k; i++) {
    const m = magnitudes[i]!;
    if (m > threshold || (m === threshold && ties-- > 0)) {
      indices[n] = i;
      kept[n++] = values[i]!;
    }
  }
  return { method: 'topk', spec, indices, values: kept };
}
