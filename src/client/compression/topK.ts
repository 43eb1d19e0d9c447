import type { SparseUpdate } from '../../protocol/compressedFormat.js';
import type { TensorSpec } from '../../protocol/tensors.js';

/**
 * Top-k sparsification (Aji and Heafield 2017): the k values largest in magnitude, indices ascending. Ties at the
 * threshold go to the lower indices, so the choice is deterministic. The threshold is found by quickselect on a
 * copy of the magnitudes: O(n) on average, a fraction of a full sort.
 */
export function topK(values: Float32Array, spec: readonly TensorSpec[], k: number): SparseUpdate {
  if (!Number.isInteger(k) || k < 1 || k > values.length) throw new Error(`top-k needs k from 1 to ${values.length}, got ${k}`);
  const magnitudes = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new Error(`the update has a non-finite value (${v}) at ${i}: it cannot be compressed`);
    magnitudes[i] = Math.abs(v);
  }
  const threshold = nthSmallest(magnitudes.slice(), values.length - k);
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

/** The value at position `n` of `a` sorted ascending (Hoare's quickselect, median-of-three pivots); reorders `a`. */
function nthSmallest(a: Float32Array, n: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (n <= j) hi = j;
    else if (n >= i) lo = i;
    else return a[n]!;
  }
  return a[n]!;
}
