import { specMismatch, specOf, type NamedTensor, type Weights } from '../protocol/tensors.js';

/** `local - global`, tensor by tensor: the update a client sends. */
export function subtractWeights(local: Weights, global: Weights): Weights {
  const mismatch = specMismatch(specOf(global), specOf(local));
  if (mismatch) throw new Error(`trained weights do not match the global model: ${mismatch}`);
  return local.map((t, i): NamedTensor => {
    const g = global[i]!.data;
    const data = new Float32Array(t.data.length);
    for (let j = 0; j < data.length; j++) data[j] = t.data[j]! - g[j]!;
    return { name: t.name, shape: [...t.shape], data };
  });
}

/** `global + delta`, tensor by tensor: the model a (privatized) update stands for. */
export function addWeights(global: Weights, delta: Weights): Weights {
  return global.map((t, i): NamedTensor => {
    const d = delta[i]!.data;
    const data = new Float32Array(t.data.length);
    for (let j = 0; j < data.length; j++) data[j] = t.data[j]! + d[j]!;
    return { name: t.name, shape: [...t.shape], data };
  });
}
