import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/client/backend/index.js';
import { buildModel } from '../../../src/client/model/buildModel.js';
import { modelSpecSchema, type ModelSpec } from '../../../src/client/model/modelSpec.js';
import { experimentConfigSchema } from '../../../src/cli/config/experimentConfig.js';
import { ConfigError, parseConfig } from '../../../src/cli/config/loadConfig.js';
import { TfjsTrainer } from '../../../src/client/tfjsTrainer.js';
import { StreamingMean } from '../../../src/coordinator/aggregation/streamingMean.js';
import { readModelWeights } from '../../../src/client/model/modelWeights.js';
import { specOf } from '../../../src/protocol/tensors.js';

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', env: {}, log: () => {} });
});

/** McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from Decentralized Data", the MNIST CNN. */
export const MNIST_CNN = {
  type: 'layers',
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 32, kernelSize: 5 },
    { type: 'maxPool', poolSize: 2 },
    { type: 'conv2d', filters: 64, kernelSize: 5 },
    { type: 'maxPool', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 512 },
  ],
  outputs: 10,
};

const parse = (model: unknown) => parseConfig('test.yaml', { rounds: 1, model }, experimentConfigSchema);
const errorOf = (model: unknown, extra: Record<string, unknown> = {}): string => {
  try {
    parseConfig('test.yaml', { rounds: 1, model, ...extra }, experimentConfigSchema);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('the config was accepted');
};

describe('declarative layers spec', () => {
  it("builds McMahan et al.'s MNIST CNN with exactly 1,663,370 parameters, and the streaming mean averages it at that size", async () => {
    const spec = parse(MNIST_CNN).model;
    const model = buildModel(spec, 784, 1);
    expect(model.countParams()).toBe(1_663_370);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    // Aggregation at the real size: the example-weighted mean of two clients' weights, streamed as the coordinator does.
    const weights = readModelWeights(model);
    const flat = Float32Array.from(weights.flatMap((t) => Array.from(t.data)));
    const mean = new StreamingMean();
    mean.bind(specOf(weights));
    const round = mean.begin(1);
    for (const [client, examples, shift] of [['a', 1, 0], ['b', 3, 1]] as const) {
      const sink = await round.accept(client, examples);
      sink.write(0, flat.map((v) => v + shift));
      sink.commit();
    }
    const result = round.finish().mean!;
    expect(result.length).toBe(1_663_370);
    for (const i of [0, 831, 52_095, 1_663_369]) expect(result[i]).toBeCloseTo(flat[i]! + 0.75, 5);
    model.dispose();
  });

  it('builds the same initial weights from the same seed, other weights from another', () => {
    const spec = parse(MNIST_CNN).model;
    const first = (seed: number) => {
      const m = buildModel(spec, 784, seed);
      const w = Array.from(m.getWeights()[0]!.dataSync());
      m.dispose();
      return w;
    };
    expect(first(3)).toEqual(first(3));
    expect(first(3)).not.toEqual(first(4));
  });

  it('builds a small ResNet-style model whose residual blocks add their input, and trains it', async () => {
    const spec = parse({
      type: 'layers',
      inputShape: [8, 8, 1],
      layers: [
        { type: 'conv2d', filters: 8, kernelSize: 3 },
        { type: 'residual', layers: [{ type: 'conv2d', filters: 8, kernelSize: 3 }, { type: 'batchNorm' }, { type: 'conv2d', filters: 8, kernelSize: 3, activation: 'linear' }] },
        { type: 'residual', layers: [{ type: 'conv2d', filters: 8, kernelSize: 3 }, { type: 'conv2d', filters: 8, kernelSize: 3, activation: 'linear' }] },
        { type: 'globalAvgPool' },
      ],
      outputs: 2,
    }).model;
    const model = buildModel(spec, 64, 7);
    expect(model.layers.filter((l) => l.getClassName() === 'Add')).toHaveLength(2);
    // conv 80 + block 1 (584 + 32 batch-norm + 584) + block 2 (584 + 584) + output 18.
    expect(model.countParams()).toBe(80 + 584 + 32 + 584 + 584 + 584 + 18);
    const n = 8;
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), 'int32'), 2).toFloat();
    const xs = tf.tidy(() => tf.concat([tf.ones([n / 2, 64]), tf.zeros([n / 2, 64])]).gather(tf.tensor1d([0, 4, 1, 5, 2, 6, 3, 7], 'int32')));
    const trainer = new TfjsTrainer({ model, train: { x: xs, y }, test: { x: xs, y }, loss: 'categoricalCrossentropy', accuracy: true, optimizer: 'adam', seed: 1 });
    const before = await trainer.evaluate({ round: 0, batchSize: 8 });
    await trainer.fit({ round: 1, epochs: 15, batchSize: 4, learningRate: 0.01 });
    const after = await trainer.evaluate({ round: 1, batchSize: 8 });
    expect(after.loss).toBeLessThan(before.loss);
    trainer.dispose();
  });

  it('refuses bad layers, naming the layer and the field', () => {
    expect(errorOf({ ...MNIST_CNN, layers: [{ type: 'conv2d', filters: 0, kernelSize: 5 }] })).toMatch(/model\.layers\.0\.filters: .*>=1/);
    expect(errorOf({ ...MNIST_CNN, layers: [{ type: 'conv3d', filters: 3 }] })).toMatch(/model\.layers\.0\.type: unknown layer type "conv3d": use one of conv2d, maxPool/);
    expect(errorOf({ ...MNIST_CNN, layers: [{ type: 'dense', units: 4, kernel: 3 }] })).toMatch(/model\.layers\.0: .*kernel/);
    expect(errorOf({ ...MNIST_CNN, layers: [{ type: 'residual', layers: [{ type: 'dropout' }] }] })).toMatch(/model\.layers\.0\.layers\.0\.rate/);
  });

  it('refuses shapes that do not fit when building, naming the layer', () => {
    const build = (model: unknown, inputs = 784) => () => buildModel(parse(model).model as ModelSpec, inputs, 1);
    expect(build({ ...MNIST_CNN, layers: [{ type: 'flatten' }, { type: 'conv2d', filters: 4, kernelSize: 3 }] })).toThrow(/model\.layers\.1 \(conv2d\) needs an input of shape \[height, width, channels\], got \[784\]/);
    expect(build({ ...MNIST_CNN, layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'residual', layers: [{ type: 'conv2d', filters: 8, kernelSize: 3 }] }, { type: 'flatten' }] })).toThrow(
      /model\.layers\.1 \(residual\): its layers turn shape \[28, 28, 4\] into \[28, 28, 8\]/,
    );
    expect(build({ ...MNIST_CNN, layers: [{ type: 'conv2d', filters: 4, kernelSize: 30, padding: 'valid' }, { type: 'flatten' }] })).toThrow(/model\.layers\.0 \(conv2d\)\.kernelSize 30x30 is larger than its input 28x28/);
    expect(build({ ...MNIST_CNN, layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }] })).toThrow(/end the layers with flatten or globalAvgPool/);
    expect(build(MNIST_CNN, 100)).toThrow(/inputShape \[28, 28, 1\] holds 784 values but the data has 100 features/);
  });

  it('refuses batchNorm under DP-SGD with the reason, and accepts it under client-level DP', () => {
    const withBn = { ...MNIST_CNN, layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'residual', layers: [{ type: 'batchNorm' }] }, { type: 'flatten' }] };
    const message = errorOf(withBn, { dpSgd: { clipNorm: 1, delta: 1e-5, noiseMultiplier: 1 }, standardization: 'none' });
    expect(message).toMatch(/model\.layers\.1\.layers\.0: batchNorm cannot train under dpSgd: batch statistics mix the examples of a batch/);
    expect(() => parseConfig('t', { rounds: 1, model: withBn, privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 }, standardization: 'none' }, experimentConfigSchema)).not.toThrow();
  });

  it('keeps the MLP spec as it was', () => {
    expect(modelSpecSchema.parse({ type: 'mlp', hidden: [4] })).toMatchObject({ type: 'mlp', hidden: [4], outputs: 1 });
  });
});
