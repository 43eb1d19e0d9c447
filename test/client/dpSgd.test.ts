import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/client/backend/index.js';
import { perExampleLoss, privateGradients, privateGradientsYielding } from '../../src/client/dpSgd.js';
import { createTabularTrainer } from '../../src/client/tabularTrainer.js';
import { TfjsTrainer } from '../../src/client/tfjsTrainer.js';
import { modelSpecSchema } from '../../src/client/model/modelSpec.js';
import type { TrainTest } from '../../src/client/data/index.js';
import { RdpAccountant } from '../../src/privacy/rdpAccountant.js';

beforeAll(async () => {
  await selectBackend({ preference: 'cpu', log: () => undefined });
});

/** y = w.x + b, one Dense unit without activation, with the given weights: gradients by hand are easy. */
function linearModel(w: number[], b: number): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 1, inputShape: [w.length], kernelInitializer: 'zeros', biasInitializer: 'zeros' }));
  model.setWeights([tf.tensor2d(w, [w.length, 1]), tf.tensor1d([b])]);
  return model;
}

/** The gradient of (w.x + b - y)^2 in (w, b): 2 r (x, 1), r the residual. */
function handGradient(w: number[], b: number, x: number[], y: number): number[] {
  const r = w.reduce((s, wi, i) => s + wi * x[i]!, b) - y;
  return [...x.map((xi) => 2 * r * xi), 2 * r];
}

const flat = (g: tf.NamedTensorMap, model: tf.LayersModel) => model.trainableWeights.flatMap((v) => Array.from(g[(v.read() as tf.Variable).name]!.dataSync()));

describe('DP-SGD private gradient', () => {
  it('clips each example to C, sums and divides by the expected batch size (noise 0): a hand computation', () => {
    const w = [0.5, -1];
    const b = 0.2;
    const model = linearModel(w, b);
    const xs = [[1, 2], [0.1, 0], [-3, 0.5]];
    const ys = [0, 0.2, 1];
    const clipNorm = 1;
    const denominator = 4;
    const expected = [0, 0, 0];
    const norms: number[] = [];
    xs.forEach((x, i) => {
      const g = handGradient(w, b, x, ys[i]!);
      const norm = Math.hypot(...g);
      norms.push(norm);
      const factor = Math.min(1, clipNorm / norm);
      g.forEach((v, k) => (expected[k]! += (v * factor) / denominator));
    });
    // One example far above C (norm 6.37), one well within (0.10), one above (8.2): clipping is exercised.
    expect(norms[0]).toBeGreaterThan(6);
    expect(norms[1]).toBeLessThan(0.2);
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys, [3, 1]);
    const out = privateGradients({ model, loss: perExampleLoss('meanSquaredError'), x, y, clipNorm, noiseMultiplier: 0, denominator });
    const got = flat(out.gradients, model);
    got.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
    Array.from(out.norms).forEach((v, i) => expect(v).toBeCloseTo(norms[i]!, 4));
    // Without clipping the same call gives the plain mean gradient times 3/4: the clip really changed it.
    const unclipped = flat(privateGradients({ model, loss: perExampleLoss('meanSquaredError'), x, y, clipNorm: 1e6, noiseMultiplier: 0, denominator }).gradients, model);
    const plain = xs.map((xi, i) => handGradient(w, b, xi, ys[i]!)).reduce((s, g) => s.map((v, k) => v + g[k]! / denominator), [0, 0, 0]);
    unclipped.forEach((v, k) => expect(v).toBeCloseTo(plain[k]!, 4));
    expect(Math.abs(unclipped[0]! - got[0]!)).toBeGreaterThan(0.5);
    tf.dispose([x, y, out.gradients]);
    model.dispose();
  });

  it('yields between examples when asked (a CNN batch is many backward passes), with the same clipped sum', async () => {
    const model = linearModel([0.5, -1], 0.2);
    const x = tf.tensor2d([[1, 2], [0.1, 0], [-3, 0.5], [2, 2]]);
    const y = tf.tensor2d([0, 0.2, 1, -1], [4, 1]);
    const input = { model, loss: perExampleLoss('meanSquaredError'), x, y, clipNorm: 1, noiseMultiplier: 0, denominator: 4 };
    const sync = privateGradients(input);
    const pauses: number[] = [];
    const yielding = await privateGradientsYielding(input, async () => void pauses.push(pauses.length));
    // One pause between each two examples: the node's socket is served that often.
    expect(pauses).toHaveLength(3);
    expect(flat(yielding.gradients, model)).toEqual(flat(sync.gradients, model));
    expect(Array.from(yielding.norms)).toEqual(Array.from(sync.norms));
    tf.dispose([x, y, sync.gradients, yielding.gradients]);
    model.dispose();
  });

  it('adds N(0, (zC)^2) to the sum: standard deviation zC / L on a zero-gradient batch', () => {
    const d = 20_000;
    const model = linearModel(new Array<number>(d).fill(0), 0);
    // Zero weights, zero inputs and zero labels: every per-example gradient is exactly 0, so what comes out is noise.
    const x = tf.zeros([3, d]);
    const y = tf.zeros([3, 1]);
    const z = 1.7;
    const clipNorm = 0.8;
    const denominator = 4;
    const out = privateGradients({ model, loss: perExampleLoss('meanSquaredError'), x, y, clipNorm, noiseMultiplier: z, denominator });
    const values = flat(out.gradients, model);
    expect(Array.from(out.norms)).toEqual([0, 0, 0]);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    const expected = (z * clipNorm) / denominator;
    // 20,001 draws: the sample std is within 3% of the truth beyond 6 standard errors (0.5% each).
    expect(Math.abs(std / expected - 1)).toBeLessThan(0.03);
    expect(Math.abs(mean)).toBeLessThan((6 * expected) / Math.sqrt(values.length));
    // A second draw differs: the noise is fresh every step (CSPRNG, no seed).
    const again = flat(privateGradients({ model, loss: perExampleLoss('meanSquaredError'), x, y, clipNorm, noiseMultiplier: z, denominator }).gradients, model);
    expect(again[0]).not.toBe(values[0]);
    tf.dispose([x, y, out.gradients]);
    model.dispose();
  });
});

/** Two Gaussian blobs, separable along the first feature. */
function blobs(rows: number, seed: number): TrainTest {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const make = (n: number) => {
    const x = new Float32Array(n * 3);
    const y = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      y[r] = r % 2;
      x[r * 3] = (r % 2 ? 1.5 : -1.5) + 0.5 * rnd();
      x[r * 3 + 1] = rnd();
      x[r * 3 + 2] = rnd();
    }
    return { x, y, rows: n, featureNames: ['a', 'b', 'c'] };
  };
  return { train: make(rows), test: make(Math.ceil(rows / 2)) };
}

const logistic = modelSpecSchema.parse({ type: 'mlp', hidden: [], outputs: 1 });

describe('TfjsTrainer with DP-SGD', () => {
  it('keeps its own accountant across rounds: epsilon is the RdpAccountant\'s for q = batch / n and the steps taken', async () => {
    const dpSgd = { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-3 };
    const trainer = createTabularTrainer({ model: logistic, data: blobs(64, 1), optimizer: 'sgd', seed: 1, dpSgd });
    const first = await trainer.fit({ round: 1, epochs: 1, batchSize: 8, learningRate: 0.1, maxSteps: 12 });
    const expected1 = new RdpAccountant().step(8 / 64, 1.1, 12).epsilon(1e-3).epsilon;
    expect(first.metrics.dpSgdEpsilon).toBeCloseTo(expected1, 10);
    expect(first.metrics).toMatchObject({ dpSgdDelta: 1e-3, dpSgdNoiseMultiplier: 1.1, dpSgdSampleRate: 0.125, dpSgdSteps: 12 });
    // Training loss and accuracy are not private: they are not reported.
    expect(first.metrics.loss).toBeUndefined();
    const second = await trainer.fit({ round: 2, epochs: 1, batchSize: 8, learningRate: 0.1 }); // one epoch: 8 steps
    expect(second.metrics.dpSgdSteps).toBe(20);
    expect(second.metrics.dpSgdEpsilon).toBeCloseTo(new RdpAccountant().step(0.125, 1.1, 20).epsilon(1e-3).epsilon, 10);
    expect(second.metrics.dpSgdEpsilon).toBeGreaterThan(first.metrics.dpSgdEpsilon!);
    expect(trainer.dpSgdEpsilon).toBe(second.metrics.dpSgdEpsilon);
    // A restarted node continues from the stored state.
    const resumed = createTabularTrainer({ model: logistic, data: blobs(64, 1), optimizer: 'sgd', seed: 1, dpSgd: { ...dpSgd, accountantState: JSON.parse(JSON.stringify(trainer.dpSgdState)) } });
    expect(resumed.dpSgdEpsilon).toBeCloseTo(second.metrics.dpSgdEpsilon!, 12);
    trainer.dispose();
    resumed.dispose();
  });

  it('refuses a round that would pass its record-level budget, before training', async () => {
    const trainer = createTabularTrainer({ model: logistic, data: blobs(32, 2), optimizer: 'sgd', seed: 1, dpSgd: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-3, targetEpsilon: 1 } });
    const before = trainer.getWeights()[0]!.data.slice();
    await expect(trainer.fit({ round: 1, epochs: 50, batchSize: 8, learningRate: 0.1 })).rejects.toThrow(/DP-SGD budget: 200 more steps would bring this node's epsilon to \d+\.\d+, past its target 1/);
    expect(trainer.getWeights()[0]!.data).toEqual(before);
    expect(trainer.dpSgdEpsilon).toBe(0);
    trainer.dispose();
  });

  it('refuses settings without privacy and layers that mix examples', () => {
    const data = blobs(8, 3);
    expect(() => createTabularTrainer({ model: logistic, data, optimizer: 'sgd', seed: 1, dpSgd: { clipNorm: 1, noiseMultiplier: 0, delta: 1e-3 } })).toThrow(/noiseMultiplier must be positive/);
    expect(() => createTabularTrainer({ model: logistic, data, optimizer: 'sgd', seed: 1, dpSgd: { clipNorm: 0, noiseMultiplier: 1, delta: 1e-3 } })).toThrow(/clipNorm must be positive/);
    const bn = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] }), tf.layers.batchNormalization(), tf.layers.dense({ units: 1, activation: 'sigmoid' })] });
    const x = tf.zeros([4, 3]);
    const y = tf.zeros([4, 1]);
    expect(() => new TfjsTrainer({ model: bn, train: { x, y }, loss: 'binaryCrossentropy', dpSgd: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-3 } })).toThrow(/batch normalization mixes the examples/);
    tf.dispose([x, y]);
    bn.dispose();
  });

  it('still learns a separable toy problem with moderate noise (z = 1, C = 1)', async () => {
    const trainer = createTabularTrainer({ model: logistic, data: blobs(200, 4), optimizer: 'sgd', seed: 1, dpSgd: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-3 } });
    const before = await trainer.evaluate({ round: 1, batchSize: 64 });
    const fit = await trainer.fit({ round: 1, epochs: 1, batchSize: 20, learningRate: 0.5, maxSteps: 60 });
    const after = await trainer.evaluate({ round: 1, batchSize: 64 });
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.metrics.accuracy).toBeGreaterThan(0.9);
    expect(fit.metrics.dpSgdEpsilon).toBeGreaterThan(0);
    expect(fit.metrics.dpSgdEpsilon).toBeLessThan(5);
    trainer.dispose();
  });
});
