import * as tf from '@tensorflow/tfjs';
import type { NamedTensor, Weights } from '../../protocol/tensors.js';

/**
 * Wire names for a model's weights. Layer names carry process-wide counters (dense_Dense3), so two copies
 * of one architecture disagree; the position and the weight's kind (kernel, bias) do not.
 */
export function weightNames(model: tf.LayersModel): string[] {
  return model.weights.map((w, i) => `${i}/${w.originalName.split('/').pop() ?? 'w'}`);
}

/** A tfjs model's weights as named float32 tensors (copies), in the model's order. */
export function readModelWeights(model: tf.LayersModel, names = weightNames(model)): Weights {
  return model.getWeights().map((t, i): NamedTensor => ({
    name: names[i]!,
    shape: [...t.shape],
    data: Float32Array.from(t.dataSync()),
  }));
}

/** Sets a tfjs model's weights from named tensors; throws when their count or shapes do not match the model's. */
export function writeModelWeights(model: tf.LayersModel, weights: Weights): void {
  const expected = model.weights.length;
  if (weights.length !== expected) throw new Error(`the model has ${expected} weight tensors, got ${weights.length}`);
  const tensors = weights.map((w) => tf.tensor(w.data, [...w.shape], 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    tensors.forEach((t) => t.dispose());
  }
}
