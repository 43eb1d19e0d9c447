import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/client/backend/index.js';

// End to end: a small CNN trains on wasm, which needs the registered Conv2DBackpropFilter.

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', env: {}, log: () => {} });
});

const SIZE = 8;

function buildModel(seed: number): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [SIZE, SIZE, 1],
      filters: 4,
      kernelSize: 3,
      strides: 1,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(
    tf.layers.conv2d({
      filters: 4,
      kernelSize: 2,
      strides: 2,
      padding: 'valid',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  model.add(tf.layers.flatten());
  model.add(
    tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
  );
  model.compile({ optimizer: tf.train.sgd(0.3), loss: 'categoricalCrossentropy' });
  return model;
}

/** Class 0: a vertical bar; class 1: a horizontal bar; each at a varying position, with a little noise. */
function bars(count: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const pixels = new Float32Array(count * SIZE * SIZE);
  const labels: number[] = [];
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    const position = (n * 3) % SIZE;
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        const onBar = label === 0 ? c === position : r === position;
        pixels[n * SIZE * SIZE + r * SIZE + c] = (onBar ? 1 : 0) + 0.05 * Math.sin(7 * n + 3 * r + c);
      }
    }
    labels.push(label);
  }
  return {
    xs: tf.tensor4d(pixels, [count, SIZE, SIZE, 1]),
    ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 2) as tf.Tensor2D,
  };
}

describe('CNN training on wasm', () => {
  it('fits: the loss falls over a few epochs', async () => {
    const model = buildModel(11);
    const { xs, ys } = bars(32);
    const history = await model.fit(xs, ys, { epochs: 20, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    const first = losses[0] as number;
    const last = losses.at(-1) as number;
    expect(last).toBeLessThan(0.3 * first);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('takes the same SGD step as the cpu backend', async () => {
    const { xs, ys } = bars(8);
    const after: Record<string, Float32Array[]> = {};
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const model = buildModel(5);
      const initial = model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
      await model.fit(xs, ys, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
      const weights = model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
      // Both convolution kernels must have moved: their gradient flowed.
      expect(weights[0]).not.toEqual(initial[0]);
      expect(weights[2]).not.toEqual(initial[2]);
      after[backend] = weights;
      model.dispose();
    }
    const cpu = after.cpu as Float32Array[];
    const wasm = after.wasm as Float32Array[];
    expect(wasm.length).toBe(cpu.length);
    cpu.forEach((reference, i) => {
      const actual = wasm[i] as Float32Array;
      reference.forEach((value, j) => expect(Math.abs(value - (actual[j] as number))).toBeLessThan(1e-5));
    });
    tf.dispose([xs, ys]);
  });
});
