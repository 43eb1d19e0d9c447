import * as tf from '@tensorflow/tfjs';
import { buildLayersModel } from './buildLayersModel.js';
import { modelFromJson } from './modelFile.js';
import { specOutputs, type MlpSpec, type ModelSpec } from './modelSpec.js';

/**
 * Builds the model a spec describes with seeded initializers, so every process that builds it from the
 * same spec and seed starts from the same weights.
 */
export function buildModel(spec: ModelSpec, inputs: number, seed: number): tf.LayersModel {
  if (spec.type === 'mlp') return buildMlp(spec, inputs, seed);
  if (spec.type === 'file') throw new Error(`model file ${spec.path} is built asynchronously: use buildModelAsync`);
  const model = buildLayersModel(spec, seed);
  const width = model.inputs[0]!.shape[1];
  if (width !== inputs) throw new Error(`model.inputShape [${spec.inputShape.join(', ')}] holds ${width} values but the data has ${inputs} features per example`);
  return model;
}

function buildMlp(spec: MlpSpec, inputs: number, seed: number): tf.Sequential {
  const model = tf.sequential();
  let layer = 0;
  const init = () => {
    if (spec.initializer === 'glorot-uniform') return { kernelInitializer: tf.initializers.glorotUniform({ seed: seed + layer }) };
    // PyTorch: kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in)) = variance scaling 1/3, fan in; bias the same bound.
    return {
      kernelInitializer: tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: seed + layer }),
      biasInitializer: tf.initializers.randomUniform({ minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn), seed: seed + 500 + layer }),
    };
  };
  let fanIn = inputs;
  for (const units of spec.hidden) {
    model.add(
      tf.layers.dense({
        units,
        activation: spec.activation,
        ...init(),
        ...(layer === 0 ? { inputShape: [inputs] } : {}),
      }),
    );
    layer++;
    fanIn = units;
    if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout, seed: seed + 1000 + layer }));
  }
  model.add(
    tf.layers.dense({
      units: spec.outputs,
      activation: spec.outputs === 1 ? 'sigmoid' : 'softmax',
      ...init(),
      ...(layer === 0 ? { inputShape: [inputs] } : {}),
    }),
  );
  return model;
}

/** Any spec's model: a model file's architecture from its text (fresh weights: the coordinator's replace them). */
export async function buildModelAsync(spec: ModelSpec, inputs: number, seed: number): Promise<tf.LayersModel> {
  if (spec.type !== 'file') return buildModel(spec, inputs, seed);
  if (spec.json === undefined) throw new Error(`model file ${spec.path} has not been read yet (readModelFile)`);
  const model = await modelFromJson(spec.json, spec.path);
  const width = model.inputs[0]!.shape[1];
  if (width !== inputs) {
    model.dispose();
    throw new Error(`model file ${spec.path} takes ${width} input values but the data has ${inputs} features per example`);
  }
  return model;
}

/** The loss for a model spec: binary cross-entropy for one output, categorical for more. */
export function lossFor(spec: ModelSpec): 'binaryCrossentropy' | 'categoricalCrossentropy' {
  return specOutputs(spec) === 1 ? 'binaryCrossentropy' : 'categoricalCrossentropy';
}
