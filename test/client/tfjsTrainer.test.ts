import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/client/backend/index.js';
import { createTabularNode, createTabularTrainer } from '../../src/client/tabularTrainer.js';
import { buildModel } from '../../src/client/model/buildModel.js';
import { mlpSpecSchema, modelSpecSchema } from '../../src/client/model/modelSpec.js';
import type { TrainTest } from '../../src/client/data/index.js';

beforeAll(async () => {
  await selectBackend({ preference: 'cpu', log: () => undefined });
});

/** Two Gaussian blobs, separable along the first feature; offset and scale differ per call. */
function blobs(rows: number, seed: number, offset = 0, scale = 1): TrainTest {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const make = (n: number) => {
    const x = new Float32Array(n * 3);
    const y = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      y[r] = r % 2;
      x[r * 3] = offset + scale * ((r % 2 ? 1.5 : -1.5) + 0.5 * rnd());
      x[r * 3 + 1] = offset + scale * rnd();
      x[r * 3 + 2] = offset + scale * rnd();
    }
    return { x, y, rows: n, featureNames: ['a', 'b', 'c'] };
  };
  return { train: make(rows), test: make(Math.ceil(rows / 2)) };
}

const spec = mlpSpecSchema.parse({ type: 'mlp', hidden: [8], outputs: 1 });

describe('TfjsTrainer', () => {
  it('learns, reports its counts, and round-trips weights by stable names', async () => {
    const trainer = createTabularTrainer({ model: spec, data: blobs(64, 1), optimizer: 'adam', seed: 1 });
    expect(trainer.describe()).toMatchObject({ numTrainExamples: 64, numTestExamples: 32, backend: 'cpu' });
    const before = await trainer.evaluate({ round: 1, batchSize: 16 });
    const fit = await trainer.fit({ round: 1, epochs: 20, batchSize: 8, learningRate: 0.05 });
    expect(fit.numExamples).toBe(64);
    const after = await trainer.evaluate({ round: 1, batchSize: 16 });
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.metrics.accuracy).toBeGreaterThan(0.9);
    const weights = trainer.getWeights();
    expect(weights.map((w) => w.name)).toEqual(['0/kernel', '1/bias', '2/kernel', '3/bias']);
    const other = createTabularTrainer({ model: spec, data: blobs(64, 1), optimizer: 'adam', seed: 99 });
    other.setWeights(weights);
    expect((await other.evaluate({ round: 1, batchSize: 16 })).loss).toBeCloseTo(after.loss, 5);
    trainer.dispose();
    other.dispose();
  });

  it('refuses a batch size that would never advance (0, a fraction, NaN) in fit and evaluate, and still trains after', async () => {
    const trainer = createTabularTrainer({ model: spec, data: blobs(16, 3), optimizer: 'sgd', seed: 3 });
    for (const batchSize of [0, 2.5, Number.NaN]) {
      await expect(trainer.fit({ round: 1, epochs: 1, batchSize, learningRate: 0.1 })).rejects.toThrow(`batchSize must be a whole number of examples >= 1, got ${String(batchSize)}`);
      await expect(trainer.evaluate({ round: 1, batchSize })).rejects.toThrow('batchSize must be a whole number');
    }
    expect((await trainer.fit({ round: 1, epochs: 1, batchSize: 4, learningRate: 0.1 })).numExamples).toBe(16);
    trainer.dispose();
  });

  it('is deterministic for a seed and counts maxSteps as optimizer steps', async () => {
    const run = async (seed: number) => {
      const t = createTabularTrainer({ model: spec, data: blobs(40, 2), optimizer: 'sgd', seed });
      await t.fit({ round: 3, epochs: 1, batchSize: 4, learningRate: 0.1, maxSteps: 25 });
      const w = t.getWeights();
      t.dispose();
      return w;
    };
    const [a, b, c] = [await run(5), await run(5), await run(6)];
    expect(a[0]!.data).toEqual(b[0]!.data);
    expect(a[0]!.data).not.toEqual(c[0]!.data);
  });

  it('builds identical initial weights from the same spec and seed, in PyTorch style on request', () => {
    const w = (seed: number, initializer: 'glorot-uniform' | 'pytorch') => buildModel({ ...spec, hidden: [], initializer }, 13, seed).getWeights()[0]!.dataSync();
    expect(Array.from(w(3, 'glorot-uniform'))).toEqual(Array.from(w(3, 'glorot-uniform')));
    const torch = Array.from(w(3, 'pytorch'));
    expect(Math.max(...torch.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(13));
    expect(Math.max(...Array.from(w(3, 'glorot-uniform')).map(Math.abs))).toBeGreaterThan(1 / Math.sqrt(13));
  });
});

describe('TabularScaler', () => {
  it('reports raw moments and applies a given standardization to train and test rows', async () => {
    const data = blobs(50, 3, 10, 4);
    const { trainer, scaler } = createTabularNode({ model: spec, data, localStandardization: false, optimizer: 'sgd', seed: 1 });
    const m = scaler.moments();
    expect(m.rows).toBe(50);
    let sum = 0;
    for (let r = 0; r < 50; r++) sum += data.train.x[r * 3 + 1]!;
    expect(m.mean[1]).toBeCloseTo(sum / 50, 4);
    const mean = Float32Array.from(m.mean);
    const std = Float32Array.from([...m.mean].map((mu, j) => Math.sqrt(m.meanOfSquares[j]! - mu * mu)));
    std[2] = 0; // a constant feature maps to 0
    scaler.standardize(mean, std);
    const evalAfter = await trainer.evaluate({ round: 1, batchSize: 8 });
    expect(Number.isFinite(evalAfter.loss)).toBe(true);
    // The trainer now sees standardized inputs: check through a fit on the new tensors.
    const fit = await trainer.fit({ round: 1, epochs: 30, batchSize: 10, learningRate: 0.5 });
    expect(fit.metrics.accuracy).toBeGreaterThan(0.9);
    expect(() => scaler.standardize(new Float32Array(2), new Float32Array(2))).toThrow(/covers 2 features, this client has 3/);
    trainer.dispose();
  });
});

describe('tabular tensors', () => {
  it('one-hot encodes k-class labels and refuses labels outside 0..k-1', () => {
    const data = blobs(10, 4);
    const three = modelSpecSchema.parse({ type: 'mlp', outputs: 3 });
    const t = createTabularTrainer({ model: three, data, optimizer: 'sgd', seed: 1 });
    expect(t.describe().numTrainExamples).toBe(10);
    t.dispose();
    const bad = { ...data, train: { ...data.train, y: data.train.y.map(() => 5) } };
    expect(() => createTabularTrainer({ model: three, data: bad, optimizer: 'sgd', seed: 1 })).toThrow(/label 5 does not fit a model with 3 classes/);
  });
});

describe('FedProx on the client', () => {
  it('keeps local training near the round start as proximalMu grows, and trains plainly at mu = 0', async () => {
    const drift = async (mu: number | undefined) => {
      const t = createTabularTrainer({ model: spec, data: blobs(48, 5), optimizer: 'sgd', seed: 4 });
      const start = t.getWeights().map((w) => Float32Array.from(w.data));
      const fit = await t.fit({ round: 1, epochs: 5, batchSize: 8, learningRate: 0.2, ...(mu !== undefined ? { extra: { proximalMu: mu } } : {}) });
      const moved = Math.sqrt(t.getWeights().reduce((s, w, i) => s + w.data.reduce((a, v, j) => a + (v - start[i]![j]!) ** 2, 0), 0));
      t.dispose();
      return { moved, fit };
    };
    const plain = await drift(undefined);
    const zero = await drift(0);
    const mild = await drift(0.5);
    const strong = await drift(5); // lr x mu = 1: stiff but stable (explicit steps diverge past lr x mu = 2)
    expect(zero.moved).toBe(plain.moved); // mu = 0 is plain FedAvg training, bit for bit
    expect(mild.moved).toBeLessThan(plain.moved);
    expect(strong.moved).toBeLessThan(mild.moved / 3);
    expect(mild.fit.metrics.loss).toBeGreaterThan(0);
    expect(mild.fit.metrics.accuracy).toBeGreaterThan(0.5);
    const t = createTabularTrainer({ model: spec, data: blobs(8, 5), optimizer: 'sgd', seed: 4 });
    await expect(t.fit({ round: 1, epochs: 1, batchSize: 4, learningRate: 0.1, extra: { proximalMu: -1 } })).rejects.toThrow(/proximalMu must be a finite number >= 0/);
    t.dispose();
  });
});
