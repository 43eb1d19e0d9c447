import * as tf from '@tensorflow/tfjs';
import type { TensorSpec, Weights } from '../../src/protocol/tensors.js';

/**
 * The real model of bench/ckksRound.ts --trainer tfjs: an MLP on 30 features (the breast-cancer data's width)
 * with two hidden ReLU layers sized so the model has about `params` parameters, trained by TfjsTrainer on
 * synthetic data (a fixed linear rule with label noise), the same in both modes.
 */
export const FEATURES = 30;

export function mlpWidths(params: number): [number, number] {
  const h1 = Math.round(Math.sqrt(params));
  const h2 = Math.max(1, Math.round((params - (FEATURES + 1) * h1 - 1) / (h1 + 2)));
  return [h1, h2];
}

/** The weights' names as TfjsTrainer reads them (weightNames: position/kind) and their shapes. */
export function mlpSpec(params: number): TensorSpec[] {
  const [h1, h2] = mlpWidths(params);
  return [
    { name: '0/kernel', shape: [FEATURES, h1] },
    { name: '1/bias', shape: [h1] },
    { name: '2/kernel', shape: [h1, h2] },
    { name: '3/bias', shape: [h2] },
    { name: '4/kernel', shape: [h2, 1] },
    { name: '5/bias', shape: [1] },
  ];
}

/** xorshift32 in [0, 1): the same weights and data in every process. */
function uniform(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Kernels uniform in +-1/sqrt(fan in) (PyTorch's default), biases zero. */
export function mlpInitialWeights(params: number): Weights {
  const next = uniform(7);
  return mlpSpec(params).map((t) => {
    const data = new Float32Array(t.shape.reduce((a, b) => a * b, 1));
    if (t.shape.length === 2) {
      const bound = 1 / Math.sqrt(t.shape[0]!);
      for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * bound;
    }
    return { name: t.name, shape: t.shape, data };
  });
}

export function buildMlp(params: number): tf.Sequential {
  const [h1, h2] = mlpWidths(params);
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: h1, activation: 'relu', inputShape: [FEATURES] }));
  model.add(tf.layers.dense({ units: h2, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  return model;
}

/** `rows` examples: standard normal features, label 1 where a fixed linear rule plus noise is positive. */
export function syntheticData(seed: number, rows: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const next = uniform(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const rule = Array.from({ length: FEATURES }, (_, j) => ((j * 37) % 11) / 5 - 1);
  const x = new Float32Array(rows * FEATURES);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let z = 0.5 * normal();
    for (let j = 0; j < FEATURES; j++) {
      const v = normal();
      x[r * FEATURES + j] = v;
      z += rule[j]! * v;
    }
    y[r] = z > 0 ? 1 : 0;
  }
  return { x: tf.tensor2d(x, [rows, FEATURES]), y: tf.tensor2d(y, [rows, 1]) };
}
