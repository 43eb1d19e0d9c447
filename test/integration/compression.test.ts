import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, mnistDataDir, MNIST_CLASSES, MNIST_FEATURES } from '../../examples/mnist/data.js';
import { selectBackend } from '../../src/client/backend/index.js';
import type { TabularData } from '../../src/client/data/tabular.js';
import { buildModel } from '../../src/client/model/buildModel.js';
import { modelSpecSchema } from '../../src/client/model/modelSpec.js';
import { readModelWeights } from '../../src/client/model/modelWeights.js';
import { TfjsTrainer } from '../../src/client/tfjsTrainer.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import type { CompressionOptions } from '../../src/protocol/compression.js';
import { totalParameters, specOf } from '../../src/protocol/tensors.js';
import { TestFederation } from '../helpers/federation.js';
import { silent } from '../helpers/silentLogger.js';

function installed(): boolean {
  try {
    return mnistDataDir() !== undefined;
  } catch {
    return false;
  }
}

// A 784-128-10 MLP: 101,770 parameters, trained on MNIST by three sites of 600 rows each.
const spec = modelSpecSchema.parse({ type: 'mlp', hidden: [128], outputs: MNIST_CLASSES });
const SITES = 3;
const ROWS = 600;
const ROUNDS = 3;
let train: TabularData;
let test: TabularData;

const tensors = (t: TabularData, from = 0, rows = t.rows) => ({
  x: tf.tensor2d(t.x.subarray(from * MNIST_FEATURES, (from + rows) * MNIST_FEATURES), [rows, MNIST_FEATURES]),
  y: tf.tidy(() => tf.oneHot(tf.tensor1d(t.y.subarray(from, from + rows), 'int32'), MNIST_CLASSES).toFloat()),
});

let fed: TestFederation;
afterEach(async () => fed.close());

/** One federation: the central test accuracy after each round and the bytes the coordinator's socket received. */
async function federate(compression?: CompressionOptions) {
  fed = new TestFederation();
  const evaluator = new TfjsTrainer({ model: buildModel(spec, MNIST_FEATURES, 1), train: tensors(test), test: tensors(test), loss: 'categoricalCrossentropy', accuracy: true });
  const initialWeights = readModelWeights(buildModel(spec, MNIST_FEATURES, 1));
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({
      minFitClients: SITES,
      minAvailableClients: SITES,
      fractionEvaluate: 0,
      fit: { epochs: 1, batchSize: 10, learningRate: 0.1 },
      evaluateFn: async (_round, weights) => {
        evaluator.setWeights(weights);
        return evaluator.evaluate({ round: 0, batchSize: 1000 });
      },
    }),
    initialWeights,
    rounds: ROUNDS,
    seed: 3,
    logger: silent,
    ...(compression ? { compression } : {}),
  });
  for (let i = 0; i < SITES; i++) {
    const site = tensors(train, i * ROWS, ROWS);
    fed.client(coordinator.url, `site-${i}`, new TfjsTrainer({ model: buildModel(spec, MNIST_FEATURES, 1), train: site, test: site, loss: 'categoricalCrossentropy', seed: 10 + i }), { logger: silent });
  }
  const result = await coordinator.run();
  evaluator.dispose();
  return {
    parameters: totalParameters(specOf(initialWeights)),
    accuracy: result.history.map((r) => r.central!.metrics.accuracy!),
    failures: result.history.flatMap((r) => r.fit.outcomes.filter((o) => o.failure)),
    received: coordinator.socketBytes.received,
  };
}

describe.skipIf(!installed())('update compression through a real federation (MNIST, 3 sites, a 101,770-parameter MLP, loopback sockets)', () => {
  beforeAll(async () => {
    await selectBackend({ preference: 'wasm', log: () => undefined });
    ({ train, test } = loadMnist({ trainRows: SITES * ROWS, testRows: 1000 }));
  });

  it('int8 and top-k (10 %) upload 3.9x and 4.9x fewer bytes than float32, deflated int8 fewer still, and the model learns about as well', async () => {
    const dense = await federate();
    const int8 = await federate({ method: 'int8' });
    const deflated = await federate({ method: 'int8', deflate: true });
    const topk = await federate({ method: 'topk', fraction: 0.1 });
    expect(dense.parameters).toBe(101_770);
    for (const run of [dense, int8, topk]) expect(run.failures).toEqual([]);
    // What the socket received: 9 uploads, plus the handshakes and control messages every run has alike.
    const ratio = (run: { received: number }) => dense.received / run.received;
    console.log(`compression over ${ROUNDS} rounds: received ${dense.received} B dense, ${int8.received} B int8 (${ratio(int8).toFixed(2)}x), ${deflated.received} B int8 deflated (${ratio(deflated).toFixed(2)}x), ${topk.received} B topk (${ratio(topk).toFixed(2)}x); accuracy ${[dense, int8, topk].map((r) => r.accuracy.map((a) => a.toFixed(3)).join('/')).join(', ')}`);
    expect(ratio(int8)).toBeGreaterThan(3.9);
    // Deflating is lossless: the same seeded rounding gives the same models, round by round, in fewer bytes.
    expect(deflated.accuracy).toEqual(int8.accuracy);
    expect(ratio(deflated)).toBeGreaterThan(ratio(int8) * 1.2);
    expect(ratio(topk)).toBeGreaterThan(4.9);
    // It learns: far above chance (0.1) after one round, better after three, and close to the uncompressed run.
    for (const run of [int8, topk]) {
      expect(run.accuracy[0]!).toBeGreaterThan(0.5);
      expect(run.accuracy[ROUNDS - 1]!).toBeGreaterThan(run.accuracy[0]!);
      expect(run.accuracy[ROUNDS - 1]!).toBeGreaterThan(dense.accuracy[ROUNDS - 1]! - 0.05);
    }
  });
});
