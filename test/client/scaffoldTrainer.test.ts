import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/client/backend/index.js';
import { TfjsTrainer, type TfjsTrainerOptions } from '../../src/client/tfjsTrainer.js';
import type { Weights } from '../../src/protocol/tensors.js';

beforeAll(async () => {
  await selectBackend({ preference: 'cpu', log: () => undefined });
});

// y = x w + b on four rows, mean squared error, every step on the full batch (batchSize 4 = n), so the
// batch order cannot matter.
const X = [[1, 2], [3, -1], [0, 1], [2, 2]];
const Y = [1, 0, 2, -1];
const start = { w: [0.5, -0.25], b: 0.1 };
const correctionValues = { w: [0.3, -0.2], b: 0.4 };

function linearTrainer(options: Partial<TfjsTrainerOptions> = {}): TfjsTrainer {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
  const trainer = new TfjsTrainer({ model, train: { x: tf.tensor2d(X), y: tf.tensor2d(Y, [4, 1]) }, loss: 'meanSquaredError', optimizer: 'sgd', ...options });
  trainer.setWeights(linearWeights(start.w, start.b));
  return trainer;
}

function linearWeights(w: readonly number[], b: number): Weights {
  return [
    { name: '0/kernel', shape: [2, 1], data: Float32Array.from(w) },
    { name: '1/bias', shape: [1], data: Float32Array.from([b]) },
  ];
}

const correction = linearWeights(correctionValues.w, correctionValues.b);
const flat = (w: Weights) => w.flatMap((t) => Array.from(t.data));

/** Independent float64 reference: K steps of y <- y - eta (g(y) + mu (y - x) + correction). */
function reference(steps: number, lr: number, mu: number): number[] {
  let w = [...start.w];
  let b = start.b;
  for (let k = 0; k < steps; k++) {
    const err = X.map((x, i) => x[0]! * w[0]! + x[1]! * w[1]! + b - Y[i]!);
    const gw = [0, 1].map((j) => err.reduce((s, e, i) => s + (2 * e * X[i]![j]!) / X.length, 0) + mu * (w[j]! - start.w[j]!) + correctionValues.w[j]!);
    const gb = err.reduce((s, e) => s + (2 * e) / X.length, 0) + mu * (b - start.b) + correctionValues.b;
    w = w.map((v, j) => v - lr * gw[j]!);
    b -= lr * gb;
  }
  return [...w, b];
}

describe("TfjsTrainer's SCAFFOLD seam: y <- y - eta_l (g(y) + c - c_i)", () => {
  it('takes one corrected SGD step exactly as computed by hand', async () => {
    // err = x w + b - y = [-0.9, 1.85, -2.15, 1.6]; g_w = (2 / 4) X^T err = [3.925, -1.3]; g_b = 0.2
    // w = [0.5, -0.25] - 0.05 ([3.925, -1.3] + [0.3, -0.2]) = [0.28875, -0.175]; b = 0.1 - 0.05 (0.2 + 0.4) = 0.07
    const trainer = linearTrainer();
    const outcome = await trainer.fitWithCorrection({ round: 1, epochs: 1, batchSize: 4, learningRate: 0.05 }, correction);
    expect(outcome).toMatchObject({ numExamples: 4, steps: 1, learningRate: 0.05 });
    flat(trainer.getWeights()).forEach((v, i) => expect(v).toBeCloseTo([0.28875, -0.175, 0.07][i]!, 6));
    // Without the correction the same step lands elsewhere: w = [0.30375, -0.185], b = 0.09.
    trainer.setWeights(linearWeights(start.w, start.b));
    await trainer.fit({ round: 1, epochs: 1, batchSize: 4, learningRate: 0.05 });
    flat(trainer.getWeights()).forEach((v, i) => expect(v).toBeCloseTo([0.30375, -0.185, 0.09][i]!, 6));
    trainer.dispose();
  });

  it("composes with FedProx's proximal term over several steps, and reports K", async () => {
    const trainer = linearTrainer();
    const outcome = await trainer.fitWithCorrection({ round: 1, epochs: 3, batchSize: 4, learningRate: 0.05, extra: { proximalMu: 0.5 } }, correction);
    expect(outcome.steps).toBe(3);
    const expected = reference(3, 0.05, 0.5);
    expect(expected).not.toEqual(reference(3, 0.05, 0)); // the proximal term matters after the first step
    flat(trainer.getWeights()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    trainer.dispose();
  });

  it('counts K as the optimizer steps actually taken (epochs x batches, or maxSteps)', async () => {
    const trainer = linearTrainer();
    expect((await trainer.fitWithCorrection({ round: 1, epochs: 2, batchSize: 3, learningRate: 0.01 }, correction)).steps).toBe(4);
    expect((await trainer.fitWithCorrection({ round: 2, epochs: 5, batchSize: 2, learningRate: 0.01, maxSteps: 3 }, correction)).steps).toBe(3);
    trainer.dispose();
  });

  it('refuses what option II cannot estimate: other optimizers, DP-SGD, a correction of the wrong shape', async () => {
    const fit = { round: 1, epochs: 1, batchSize: 4, learningRate: 0.05 };
    const adam = linearTrainer({ optimizer: 'adam' });
    await expect(adam.fitWithCorrection(fit, correction)).rejects.toThrow("SCAFFOLD needs plain SGD on the clients (option II's control update assumes it), but this trainer's optimizer is Adam: use optimizer 'sgd'");
    const momentum = linearTrainer({ optimizer: (lr) => tf.train.momentum(lr, 0.9) });
    await expect(momentum.fitWithCorrection(fit, correction)).rejects.toThrow(/optimizer is Momentum/);
    flat(momentum.getWeights()).forEach((v, i) => expect(v).toBeCloseTo([...start.w, start.b][i]!, 6)); // refused before any step
    const dp = linearTrainer({ dpSgd: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 } });
    await expect(dp.fitWithCorrection(fit, correction)).rejects.toThrow(/not combined with DP-SGD/);
    const plain = linearTrainer();
    await expect(plain.fitWithCorrection(fit, correction.slice(0, 1))).rejects.toThrow(/the SCAFFOLD correction does not match the model/);
    for (const t of [adam, momentum, dp, plain]) t.dispose();
  });
});
