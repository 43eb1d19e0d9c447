import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { saveLayersModel } from '../../src/client/model/saveModel.js';

/**
 * A Keras-style functional CNN for `size` x `size` grey images and 2 classes (a flat input reshaped, as Cohort needs),
 * saved in the tfjs layers format (model.json + weights.bin) as the converter writes it. Returns model.json's path.
 */
export async function writeKerasStyleModel(dir: string, size: number): Promise<string> {
  const input = tf.input({ shape: [size * size], name: 'pixels' });
  const image = tf.layers.reshape({ targetShape: [size, size, 1] }).apply(input) as tf.SymbolicTensor;
  const conv = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(image) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(conv) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(pooled) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  await saveLayersModel(model, dir, 'keras-style test model');
  model.dispose();
  return join(dir, 'model.json');
}
