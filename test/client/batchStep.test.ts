import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/client/backend/index.js';
import { batchStep } from '../../src/client/batchStep.js';
import { readModelWeights, writeModelWeights } from '../../src/client/model/modelWeights.js';
import { TfjsTrainer } from '../../src/client/tfjsTrainer.js';
import { createSeededRng, mixSeed, shuffleInPlace } from '../../src/protocol/seededRng.js';
import type { Weights } from '../../src/protocol/tensors.js';

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', env: {}, log: () => undefined });
});

/** Deterministic rows: features in [-1, 1), labels from a fixed rule (binary, one-hot k-class, or a real target). */
function table(rows: number, features: number, kind: 'binary' | 'classes3' | 'regression', seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const x = new Float32Array(rows * features).map(() => next());
  const width = kind === 'classes3' ? 3 : 1;
  const y = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const score = x[r * features]! + 0.5 * x[r * features + 1]!;
    if (kind === 'binary') y[r] = score > 0 ? 1 : 0;
    else if (kind === 'regression') y[r] = score;
    else y[r * 3 + (score < -0.3 ? 0 : score < 0.3 ? 1 : 2)] = 1;
  }
  return { x: tf.tensor2d(x, [rows, features]), y: tf.tensor2d(y, [rows, width]) };
}

function mlp(features: number, hidden: number[], outputs: number, activation: 'sigmoid' | 'softmax' | 'linear', extras: { l2?: number; batchNorm?: boolean } = {}): tf.Sequential {
  const model = tf.sequential();
  hidden.forEach((units, i) => {
    model.add(tf.layers.dense({ units, activation: 'relu', ...(i === 0 ? { inputShape: [features] } : {}), ...(extras.l2 && i === 0 ? { kernelRegularizer: tf.regularizers.l2({ l2: extras.l2 }) } : {}) }));
    if (extras.batchNorm && i === 0) model.add(tf.layers.batchNormalization());
  });
  model.add(tf.layers.dense({ units: outputs, activation }));
  return model;
}

/** The same model twice, with the same weights. */
function twins(make: () => tf.LayersModel): [tf.LayersModel, tf.LayersModel] {
  const a = make();
  const b = make();
  writeModelWeights(b, readModelWeights(a));
  return [a, b];
}

function sameBits(a: Weights, b: Weights): boolean {
  return a.length === b.length && a.every((t, i) => Buffer.compare(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), Buffer.from(b[i]!.data.buffer, b[i]!.data.byteOffset, b[i]!.data.byteLength)) === 0);
}

/** Batches of `size` in row order, the last one partial. */
function batches(data: { x: tf.Tensor2D; y: tf.Tensor2D }, size: number): [tf.Tensor, tf.Tensor][] {
  const rows = data.x.shape[0];
  const out: [tf.Tensor, tf.Tensor][] = [];
  for (let start = 0; start < rows; start += size) {
    const n = Math.min(size, rows - start);
    out.push([data.x.slice(start, n), data.y.slice(start, n)]);
  }
  return out;
}

type Loss = 'binaryCrossentropy' | 'categoricalCrossentropy' | 'meanSquaredError';

/** Trains `a` with batchStep and `b` with compile + trainOnBatch on the same batches; returns both reports. */
async function trainBoth(a: tf.LayersModel, b: tf.LayersModel, loss: Loss, accuracy: boolean, optimizer: () => tf.Optimizer, data: [tf.Tensor, tf.Tensor][]): Promise<[number[][], number[][]]> {
  const fast = optimizer();
  const reference = optimizer();
  b.compile({ optimizer: reference, loss, metrics: accuracy ? ['accuracy'] : [] });
  const step = batchStep({ model: a, loss, accuracy, optimizer: fast });
  const reports: [number[][], number[][]] = [[], []];
  for (const [x, y] of data) {
    reports[0].push(await step(x, y));
    const out = await b.trainOnBatch(x, y);
    reports[1].push(Array.isArray(out) ? out : [out]);
  }
  fast.dispose();
  reference.dispose();
  return reports;
}

describe('batchStep: one training step without trainOnBatch set-up, bit-identical to it', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`${backend}: a 100k-parameter binary MLP with an L2 penalty: same weights to the bit, same losses and accuracies`, async () => {
      await tf.setBackend(backend);
      const [a, b] = twins(() => mlp(30, [320, 280], 1, 'sigmoid', { l2: 1e-3 }));
      expect(a.countParams()).toBeGreaterThan(100_000);
      const initial = readModelWeights(a);
      const data = table(150, 30, 'binary', 3);
      const [fast, reference] = await trainBoth(a, b, 'binaryCrossentropy', true, () => tf.train.sgd(0.05), batches(data, 32));
      expect(fast).toEqual(reference);
      expect(fast).toHaveLength(5);
      expect(sameBits(readModelWeights(a), readModelWeights(b))).toBe(true);
      // Negative control: the weights moved (a step that did nothing would also match a model that did nothing).
      expect(sameBits(readModelWeights(a), initial)).toBe(false);
      tf.dispose([data.x, data.y, ...a.weights.map((w) => w.read()), ...b.weights.map((w) => w.read())]);
    });
  }

  it('3 classes with softmax, categorical cross-entropy, batch norm and Adam (optimizer state across steps): same to the bit', async () => {
    await tf.setBackend('wasm');
    const [a, b] = twins(() => mlp(8, [16], 3, 'softmax', { batchNorm: true }));
    const data = table(70, 8, 'classes3', 5);
    const [fast, reference] = await trainBoth(a, b, 'categoricalCrossentropy', true, () => tf.train.adam(0.01), batches(data, 16));
    expect(fast).toEqual(reference);
    // Batch norm's moving statistics (non-trainable) move in training mode on both paths alike.
    expect(sameBits(readModelWeights(a), readModelWeights(b))).toBe(true);
  });

  it('mean squared error without accuracy reports the loss alone, as trainOnBatch does', async () => {
    await tf.setBackend('wasm');
    const [a, b] = twins(() => mlp(4, [8], 1, 'linear'));
    const [fast, reference] = await trainBoth(a, b, 'meanSquaredError', false, () => tf.train.sgd(0.1), batches(table(20, 4, 'regression', 9), 8));
    expect(fast).toEqual(reference);
    expect(fast.every((r) => r.length === 1)).toBe(true);
    expect(sameBits(readModelWeights(a), readModelWeights(b))).toBe(true);
  });

  it('a batch whose labels are not the model output shape is refused by tfjs as before, not broadcast into the loss', async () => {
    await tf.setBackend('wasm');
    const model = mlp(4, [8], 1, 'sigmoid');
    const before = readModelWeights(model);
    const optimizer = tf.train.sgd(0.1);
    const step = batchStep({ model, loss: 'binaryCrossentropy', accuracy: true, optimizer });
    // Two label columns for a one-output model: broadcasting would train on it silently.
    await expect(step(tf.ones([6, 4]), tf.ones([6, 2]))).rejects.toThrow(/target expected a batch of elements where each example has shape \[1\]/);
    expect(sameBits(readModelWeights(model), before)).toBe(true);
    optimizer.dispose();
  });
});

describe('TfjsTrainer.fit through batchStep', () => {
  it("a round equals compile + trainOnBatch over the trainer's own seeded batch order, to the bit (100k parameters)", async () => {
    await tf.setBackend('wasm');
    const [a, b] = twins(() => mlp(30, [320, 280], 1, 'sigmoid'));
    const data = table(150, 30, 'binary', 11);
    const trainer = new TfjsTrainer({ model: a, train: { x: data.x.clone(), y: data.y.clone() }, loss: 'binaryCrossentropy', accuracy: true, seed: 4 });
    const outcome = await trainer.fit({ round: 3, epochs: 2, batchSize: 32, learningRate: 0.05 });
    // The reference: the trainer's order (its seed mixed with the round, reshuffled each epoch), trained the old way.
    const optimizer = tf.train.sgd(0.05);
    b.compile({ optimizer, loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const rng = createSeededRng(mixSeed(4, 3));
    const indices = Array.from({ length: 150 }, (_, i) => i);
    let lossSum = 0;
    for (let epoch = 0; epoch < 2; epoch++) {
      const order = shuffleInPlace([...indices], rng);
      for (let start = 0; start < 150; start += 32) {
        const rows = order.slice(start, start + 32);
        const idx = tf.tensor1d(rows, 'int32');
        const [x, y] = [tf.gather(data.x, idx), tf.gather(data.y, idx)];
        const [loss] = (await b.trainOnBatch(x, y)) as number[];
        lossSum += loss! * rows.length;
        tf.dispose([idx, x, y]);
      }
    }
    expect(sameBits(trainer.getWeights(), readModelWeights(b))).toBe(true);
    expect(outcome.metrics.loss).toBe(lossSum / 300);
    optimizer.dispose();
    trainer.dispose();
  });
});
