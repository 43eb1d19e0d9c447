import type { Weights } from '../../protocol/tensors.js';

/** Returns new weights `global + scale * delta`, where `delta` is flat in the weights' order. */
export function applyFlatUpdate(global: Weights, delta: Float32Array, scale: number): Weights {
  let at = 0;
  const out = global.map((t) => {
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < data.length; i++) data[i] = t.data[i]! + scale * delta[at + i]!;
    at += data.length;
    return { name: t.name, shape: [...t.shape], data };
  });
  if (at !== delta.length) throw new Error(`update has ${delta.length} values, the model has ${at}`);
  return out;
}
