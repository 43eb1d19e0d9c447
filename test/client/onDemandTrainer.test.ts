import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/client/backend/index.js';
import type { TrainTest } from '../../src/client/data/index.js';
import { mlpSpecSchema } from '../../src/client/model/modelSpec.js';
import { OnDemandTrainer } from '../../src/client/onDemandTrainer.js';
import { createTabularTrainer } from '../../src/client/tabularTrainer.js';
import type { DpSgdOptions } from '../../src/client/dpSgd.js';
import type { Weights } from '../../src/protocol/tensors.js';

beforeAll(async () => {
  await selectBackend({ preference: 'cpu', log: () => undefined });
});

/** Rows separable along the first of 4 features; `seed` varies them. */
function rowsOf(rows: number, seed: number): TrainTest {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const make = (n: number) => {
    const x = new Float32Array(n * 4);
    const y = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      y[r] = r % 2;
      x[r * 4] = (r % 2 ? 1 : -1) + 0.5 * rnd();
      for (let j = 1; j < 4; j++) x[r * 4 + j] = rnd();
    }
    return { x, y, rows: n, featureNames: ['a', 'b', 'c', 'd'] };
  };
  return { train: make(rows), test: make(Math.ceil(rows / 4)) };
}

const spec = mlpSpecSchema.parse({ type: 'mlp', hidden: [16], outputs: 1 });
const fit = { epochs: 2, batchSize: 8, learningRate: 0.05 };

function onDemand(data: TrainTest, dpSgd?: DpSgdOptions) {
  let builds = 0;
  const shape = createTabularTrainer({ model: spec, data, optimizer: 'sgd', seed: 3 });
  const trainer = new OnDemandTrainer({
    data,
    shape: shape.getWeights(),
    description: { numTrainExamples: data.train.rows, numTestExamples: data.test.rows, backend: 'cpu' },
    build: (rows, dpSgdState) => {
      builds++;
      return createTabularTrainer({ model: spec, data: rows, optimizer: 'sgd', seed: 3, ...(dpSgd ? { dpSgd: { ...dpSgd, ...(dpSgdState === undefined ? {} : { accountantState: dpSgdState }) } } : {}) });
    },
  });
  shape.dispose();
  return { trainer, builds: () => builds };
}

const bytes = (w: Weights) => Buffer.concat(w.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));

describe('OnDemandTrainer', () => {
  it('trains, round after round, to the same weights bit for bit as a trainer that keeps its model', async () => {
    const data = rowsOf(48, 5);
    const kept = createTabularTrainer({ model: spec, data, optimizer: 'sgd', seed: 3 });
    const { trainer, builds } = onDemand(data);
    let global = kept.getWeights();
    for (let round = 1; round <= 3; round++) {
      kept.setWeights(global);
      await kept.fit({ round, ...fit });
      const expected = kept.getWeights();
      await trainer.setWeights(global);
      await trainer.fit({ round, ...fit });
      const got = trainer.getWeights();
      expect(bytes(got).equals(bytes(expected))).toBe(true);
      expect(bytes(got).equals(bytes(global))).toBe(false); // it did train
      global = got;
    }
    expect(builds()).toBe(3);
    kept.dispose();
  });

  it('holds no tensors between tasks: the model exists from setWeights until the update is read or the evaluation ends', async () => {
    const before = tf.memory().numTensors;
    const clients = Array.from({ length: 50 }, (_, i) => onDemand(rowsOf(16, i + 1)).trainer);
    // Fifty clients hosted, none working: nothing held beyond what their construction freed.
    expect(tf.memory().numTensors).toBe(before);
    const global = clients[0]!.getWeights();
    expect(global.map((t) => t.shape)).toEqual([[4, 16], [16], [16, 1], [1]]);
    await clients[7]!.setWeights(global);
    expect(clients[7]!.holdsModel).toBe(true);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    await clients[7]!.fit({ round: 1, ...fit });
    clients[7]!.getWeights();
    expect(clients[7]!.holdsModel).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    await clients[9]!.setWeights(global);
    const evaluated = await clients[9]!.evaluate({ round: 1, batchSize: 8 });
    expect(evaluated.numExamples).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
    // A task that fails frees its model too.
    await clients[11]!.setWeights(global);
    await expect(clients[11]!.fitWithCorrection({ round: 1, ...fit }, [])).rejects.toThrow();
    expect(clients[11]!.holdsModel).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    await expect(clients[11]!.fit({ round: 1, ...fit })).rejects.toThrow('setWeights must come before a task');
  });

  it('carries DP-SGD accounting from one task to the next, though each task builds a new trainer', async () => {
    const { trainer } = onDemand(rowsOf(64, 9), { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-3 });
    const global = trainer.getWeights();
    const spent: number[] = [];
    for (let round = 1; round <= 2; round++) {
      await trainer.setWeights(global);
      const outcome = await trainer.fit({ round, ...fit });
      trainer.getWeights();
      spent.push(outcome.metrics.dpSgdEpsilon!);
    }
    expect(spent[0]).toBeGreaterThan(0);
    // Twice the steps: more epsilon spent than after one round (a fresh accountant would report the same).
    expect(spent[1]).toBeGreaterThan(spent[0]! * 1.2);
  });

  it('trains on new rows after setData (federated standardization)', async () => {
    const data = rowsOf(32, 4);
    const { trainer } = onDemand(data);
    const global = trainer.getWeights();
    await trainer.setWeights(global);
    await trainer.fit({ round: 1, ...fit });
    const onOld = trainer.getWeights();
    const scaled: TrainTest = { train: { ...data.train, x: data.train.x.map((v) => v * 3) }, test: data.test };
    trainer.setData(scaled);
    await trainer.setWeights(global);
    await trainer.fit({ round: 1, ...fit });
    expect(bytes(trainer.getWeights()).equals(bytes(onOld))).toBe(false);
  });
});
