import { STD_EPSILON } from '../../client/data/index.js';
import type { Weights } from '../../protocol/tensors.js';

/**
 * Folds a z-score, z_i = (x_i - mean_i) / (std_i + STD_EPSILON) (0 for a constant feature, as the clients apply
 * it), into the first dense layer, so the model reads raw features: W'_ij = W_ij s_i and b'_j = b_j - sum_i W_ij
 * s_i mean_i, with s_i = 1 / (std_i + STD_EPSILON), or 0 for a constant feature. Exact in real arithmetic (the
 * layer is linear before its activation); computed in float64, stored in float32. `weights` starts with that
 * layer's kernel [inputs, units] and bias [units], as buildModel's MLPs do.
 */
export function foldStandardization(weights: Weights, mean: Float32Array, std: Float32Array): Weights {
  const [kernel, bias, ...rest] = weights;
  if (!kernel || !bias || kernel.shape.length !== 2 || bias.shape.length !== 1 || kernel.shape[1] !== bias.shape[0]) {
    throw new Error('the model does not start with a dense layer (kernel [inputs, units] and bias [units]): the standardization cannot be folded into it');
  }
  const [inputs, units] = kernel.shape as [number, number];
  if (mean.length !== inputs || std.length !== inputs) throw new Error(`the standardization covers ${mean.length} features, the model's first layer takes ${inputs}`);
  const folded = new Float32Array(kernel.data.length);
  const shifted = Float64Array.from(bias.data);
  for (let i = 0; i < inputs; i++) {
    const scale = std[i] === 0 ? 0 : 1 / (std[i]! + STD_EPSILON);
    for (let j = 0; j < units; j++) {
      const w = kernel.data[i * units + j]! * scale;
      folded[i * units + j] = w;
      shifted[j]! -= w * mean[i]!;
    }
  }
  return [{ ...kernel, data: folded }, { ...bias, data: Float32Array.from(shifted) }, ...rest];
}
