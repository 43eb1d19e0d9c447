/**
 * Checks the MNIST loader end to end: trains the "2NN" of McMahan et al. 2017 (784-200-200-10, ReLU, softmax;
 * 199,210 parameters) centrally on the 60,000 training images and prints its test accuracy and the time taken.
 * Not the paper's federated experiment (100 clients, hundreds of rounds): a single-machine sanity check.
 *
 *   npx tsx examples/mnist/run.ts [--backend wasm|cpu|auto] [--epochs 1] [--batch 10] [--lr 0.05]
 *       [--optimizer sgd|adam] [--seed 42] [--train-rows 60000]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, TfjsTrainer } from '../../src/index.js';
import { buildModel, lossFor, modelSpecSchema, parseBackendPreference, type TabularData } from '../../src/entries/client.js';
import { loadMnist, MNIST_CLASSES, MNIST_FEATURES } from './data.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    epochs: { type: 'string', default: '1' },
    batch: { type: 'string', default: '10' },
    lr: { type: 'string', default: '0.05' },
    optimizer: { type: 'string', default: 'sgd' },
    seed: { type: 'string', default: '42' },
    'train-rows': { type: 'string', default: '60000' },
  },
});
const seed = Number.parseInt(values.seed, 10);
const epochs = Number.parseInt(values.epochs, 10);
const batchSize = Number.parseInt(values.batch, 10);
const learningRate = Number(values.lr);
if (values.optimizer !== 'sgd' && values.optimizer !== 'adam') throw new Error(`--optimizer must be sgd or adam, got ${values.optimizer}`);

await selectBackend({ preference: parseBackendPreference(values.backend, '--backend') });
const loadStart = performance.now();
const data = loadMnist({ trainRows: Number.parseInt(values['train-rows'], 10) });
console.log(`loaded MNIST: ${data.train.rows} train / ${data.test.rows} test rows, ${data.train.featureNames.length} features in ${((performance.now() - loadStart) / 1000).toFixed(2)} s`);

const spec = modelSpecSchema.parse({ type: 'mlp', hidden: [200, 200], activation: 'relu', outputs: MNIST_CLASSES });
const tensors = (t: TabularData) => ({
  x: tf.tensor2d(t.x, [t.rows, MNIST_FEATURES]),
  y: tf.tidy(() => tf.oneHot(tf.tensor1d(t.y, 'int32'), MNIST_CLASSES).toFloat()),
});
const model = buildModel(spec, MNIST_FEATURES, seed);
const trainer = new TfjsTrainer({ model, train: tensors(data.train), test: tensors(data.test), loss: lossFor(spec), accuracy: true, optimizer: values.optimizer, seed });
console.log(`2NN: ${model.countParams()} parameters; ${epochs} epoch(s), batch ${batchSize}, ${values.optimizer} lr ${learningRate}`);

const trainStart = performance.now();
const fit = await trainer.fit({ round: 1, epochs, batchSize, learningRate });
const trainSeconds = (performance.now() - trainStart) / 1000;
const test = await trainer.evaluate({ round: 1, batchSize: 1000 });
console.log(`train: loss ${fit.metrics.loss!.toFixed(4)}, accuracy ${(100 * fit.metrics.accuracy!).toFixed(2)}% in ${trainSeconds.toFixed(1)} s (${((epochs * data.train.rows) / trainSeconds).toFixed(0)} examples/s)`);
console.log(`test:  loss ${test.loss.toFixed(4)}, accuracy ${(100 * test.metrics.accuracy!).toFixed(2)}% on ${test.numExamples} images`);
trainer.dispose();
