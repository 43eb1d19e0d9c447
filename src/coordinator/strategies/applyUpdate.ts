import type { Weights } from '../../protocol/tensors.js';

/**
 * Returns new weights `global + scale * delta`, where `delta` is flat in the weights' order. With `into` (weights
 * of the same shapes, possibly `global` itself: the coordinator's own copy, which it no longer reads), the result
 * is written there instead of into new arrays, so a round's update allocates no second model: element i is read
 * from `global` before element i of `into` is written.
 */
export function applyFlatUpdate(global: Weights, delta: Float32Array, scale: number, into?: Weights): Weights {
  const size = global.reduce((n, t) => n + t.data.length, 0);
  if (size !== delta.length) throw new Error(`update has ${delta.length} values, the model has ${size}`);
  if (into && (into.length !== global.length || into.some((t, k) => t.data.length !== global[k]!.data.length))) {
    throw new Error('applyFlatUpdate: `into` must have the tensors and sizes of `global`');
  }
  let at = 0;
  return global.map((t, k) => {
    const data = into ? into[k]!.data : new Float32Array(t.data.length);
    const from = t.data;
    for (let i = 0; i < data.length; i++) data[i] = from[i]! + scale * delta[at + i]!;
    at += data.length;
    return into ? into[k]! : { name: t.name, shape: [...t.shape], data };
  });
}
