import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from './modelSpec.js';

/**
 * Builds the model a spec describes with seeded initializers, so every process that builds it from the
 * same spec and seed starts from the same weights.
 */
export function buildModel(spec: ModelSpec, inputs: number, seed: number): tf.Sequential {
  const model = tf.sequential();
  let layer = 0;
  const init = () => tf.initializers.glorotUniform({ seed: seed + layer });
  for (const units of spec.hidden) {
    model.add(
      tf.layers.dense({
        units,
        activation: spec.activation,
        kernelInitializer: init(),
        ...(layer === 0 ? { inputShape: [inputs] } : {}),
      }),
    );
    layer++;
    if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout, seed: seed + 1000 + layer }));
  }
  model.add(
    tf.layers.dense({
      units: spec.outputs,
      activation: spec.outputs === 1 ? 'sigmoid' : 'softmax',
      kernelInitializer: init(),
      ...(layer === 0 ? { inputShape: [inputs] } : {}),
    }),
  );
  return model;
}

export function lossFor(spec: ModelSpec): 'binaryCrossentropy' | 'categoricalCrossentropy' {
  return spec.outputs === 1 ? 'binaryCrossentropy' : 'categoricalCrossentropy';
}
