import * as tf from '@tensorflow/tfjs';
import { inputWidth, type LayerSpec, type LayersModelSpec } from './layerSpec.js';

/** A spec that cannot be built (shapes that do not fit), naming the layer by its config path. */
export class ModelSpecError extends Error {
  override readonly name = 'ModelSpecError';
}

type Path = readonly (string | number)[];
const describe = (path: Path, layer: LayerSpec) => `${path.join('.')} (${layer.type})`;
const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/**
 * Builds a declarative layers spec as a functional tfjs model with seeded initializers (every process that builds it
 * from the same spec and seed starts from the same weights). Input rows arrive flat ([n, prod(inputShape)]) as tables
 * and image loaders give them, and are reshaped first.
 */
export function buildLayersModel(spec: LayersModelSpec, seed: number): tf.LayersModel {
  const width = inputWidth(spec);
  if (spec.inputs !== undefined && spec.inputs !== width) {
    throw new ModelSpecError(`model.inputs is ${spec.inputs} but model.inputShape [${spec.inputShape.join(', ')}] holds ${width} values`);
  }
  let counter = 0;
  const nextSeed = () => seed + counter++;
  const input = tf.input({ shape: [width] });
  let x = tf.layers.reshape({ targetShape: [...spec.inputShape] }).apply(input) as tf.SymbolicTensor;
  x = applyLayers(spec.layers, x, ['model', 'layers'], nextSeed);
  const rank = x.shape.length - 1;
  if (rank !== 1) {
    throw new ModelSpecError(`the last layer gives shape [${x.shape.slice(1).join(', ')}]; end the layers with flatten or globalAvgPool before the ${spec.outputs}-unit output layer`);
  }
  const output = tf.layers
    .dense({ units: spec.outputs, activation: spec.outputs === 1 ? 'sigmoid' : 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

function applyLayers(layers: readonly LayerSpec[], input: tf.SymbolicTensor, path: Path, nextSeed: () => number): tf.SymbolicTensor {
  let x = input;
  for (const [i, layer] of layers.entries()) x = applyLayer(layer, x, [...path, i], nextSeed);
  return x;
}

function applyLayer(layer: LayerSpec, x: tf.SymbolicTensor, path: Path, nextSeed: () => number): tf.SymbolicTensor {
  const shape = x.shape.slice(1);
  const needsImage = () => {
    if (shape.length !== 3) {
      throw new ModelSpecError(`${describe(path, layer)} needs an input of shape [height, width, channels], got [${shape.join(', ')}] (set model.inputShape to 3 numbers, and put it before flatten)`);
    }
  };
  const apply = (l: tf.layers.Layer): tf.SymbolicTensor => {
    try {
      return l.apply(x) as tf.SymbolicTensor;
    } catch (e) {
      throw new ModelSpecError(`${describe(path, layer)} cannot take an input of shape [${shape.join(', ')}]: ${(e as Error).message}`);
    }
  };
  switch (layer.type) {
    case 'conv2d': {
      needsImage();
      const [kh, kw] = pair(layer.kernelSize);
      if (layer.padding === 'valid' && (kh > shape[0]! || kw > shape[1]!)) {
        throw new ModelSpecError(`${describe(path, layer)}.kernelSize ${kh}x${kw} is larger than its input ${shape[0]}x${shape[1]} (use padding: same or a smaller kernel)`);
      }
      return apply(
        tf.layers.conv2d({ filters: layer.filters, kernelSize: [kh, kw], strides: pair(layer.strides), padding: layer.padding, activation: layer.activation, kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }) }),
      );
    }
    case 'maxPool':
    case 'avgPool': {
      needsImage();
      const [ph, pw] = pair(layer.poolSize);
      if (layer.padding === 'valid' && (ph > shape[0]! || pw > shape[1]!)) {
        throw new ModelSpecError(`${describe(path, layer)}.poolSize ${ph}x${pw} is larger than its input ${shape[0]}x${shape[1]}`);
      }
      const args = { poolSize: [ph, pw] as [number, number], strides: pair(layer.strides ?? layer.poolSize), padding: layer.padding };
      return apply(layer.type === 'maxPool' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args));
    }
    case 'globalAvgPool':
      needsImage();
      return apply(tf.layers.globalAveragePooling2d({}));
    case 'flatten':
      return apply(tf.layers.flatten());
    case 'dense':
      return apply(tf.layers.dense({ units: layer.units, activation: layer.activation, kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }) }));
    case 'dropout':
      return apply(tf.layers.dropout({ rate: layer.rate, seed: nextSeed() }));
    case 'batchNorm':
      return apply(tf.layers.batchNormalization({ momentum: layer.momentum }));
    case 'residual': {
      const inner = applyLayers(layer.layers, x, [...path, 'layers'], nextSeed);
      const out = inner.shape.slice(1);
      if (!tf.util.arraysEqual(out as number[], shape as number[])) {
        throw new ModelSpecError(
          `${describe(path, layer)}: its layers turn shape [${shape.join(', ')}] into [${out.join(', ')}], and the skip connection adds the two: keep the shape (padding: same, stride 1, as many filters as input channels)`,
        );
      }
      const sum = tf.layers.add().apply([x, inner]) as tf.SymbolicTensor;
      return layer.activation === 'linear' ? sum : (tf.layers.activation({ activation: layer.activation }).apply(sum) as tf.SymbolicTensor);
    }
  }
}
