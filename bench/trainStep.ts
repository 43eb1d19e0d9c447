/**
 * A client's local round on the per-client bench's model (bench/perClient.ts: the MLP of about 11k parameters,
 * wasm, one epoch of SGD in batches of 32 on a share of the breast-cancer table), the way TfjsTrainer trains now
 * (batchStep: trainOnBatch's math without its per-batch set-up, no compile) against the way it trained before
 * (compile with the round's optimizer, then model.trainOnBatch per batch), interleaved in one process so both see
 * the same machine load. CPU time per round (process.cpuUsage, which a loaded machine inflates less than wall
 * time), medians over `--rounds`, for the shares of 3 and of 10 clients (152 and 46 rows: 5 and 2 batches); and a
 * check that both paths end each round with the same weights to the bit.
 *
 *   npx tsx bench/trainStep.ts [--rounds 200] [--params 11_000] [--backend wasm|cpu]
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../src/client/backend/index.js';
import { loadCsvData } from '../src/client/data/loadCsvData.js';
import { takeRows } from '../src/client/data/tabular.js';
import { readModelWeights, writeModelWeights } from '../src/client/model/modelWeights.js';
import { tabularTensors } from '../src/client/tabularTrainer.js';
import { TfjsTrainer } from '../src/client/tfjsTrainer.js';
import { createSeededRng, mixSeed, shuffleInPlace } from '../src/protocol/seededRng.js';
import { benchArgs } from './lib/args.js';
import { buildMlp, mlpInitialWeights } from './lib/mlpModel.js';
import { printResult } from './lib/result.js';
import { median } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const args = benchArgs(['rounds', 'params'], [], ['backend']);
const rounds = args.number('rounds', 200, 10);
const params = args.number('params', 11_000);
const backend = args.text('backend') ?? 'wasm';
if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend is wasm or cpu, got "${backend}"`);
await selectBackend({ preference: backend, env: {}, log: () => undefined });

const BREAST_CANCER = fileURLToPath(new URL('../examples/breast-cancer/data/breast_cancer.csv', import.meta.url));
const table = loadCsvData({ path: BREAST_CANCER, label: 'target', testFraction: 0.2, seed: 7 });
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const sameBits = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

/** The previous TfjsTrainer round: compile with the round's optimizer, then trainOnBatch per batch in the trainer's order. */
async function trainOnBatchRound(model: tf.LayersModel, data: { x: tf.Tensor; y: tf.Tensor }, rows: number, round: number): Promise<void> {
  const optimizer = tf.train.sgd(0.05);
  model.compile({ optimizer, loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const order = shuffleInPlace(
    Array.from({ length: rows }, (_, i) => i),
    createSeededRng(mixSeed(0, round)),
  );
  for (let start = 0; start < rows; start += 32) {
    const [x, y] = tf.tidy(() => {
      const idx = tf.tensor1d(order.slice(start, start + 32), 'int32');
      return [tf.gather(data.x, idx), tf.gather(data.y, idx)];
    });
    await model.trainOnBatch(x!, y!);
    tf.dispose([x!, y!]);
  }
  optimizer.dispose();
}

const initial = mlpInitialWeights(params);
const rows: string[][] = [];
const ratios: number[] = [];
let identical = true;
for (const clients of [3, 10]) {
  const share = takeRows(
    table.train,
    Array.from({ length: Math.ceil(table.train.rows / clients) }, (_, i) => i * clients),
  );
  const trainer = new TfjsTrainer({ model: buildMlp(params), train: tabularTensors(share, 1), loss: 'binaryCrossentropy', accuracy: true, seed: 0 });
  const reference = buildMlp(params);
  const referenceData = tabularTensors(share, 1);
  const cpu = { now: [] as number[], before: [] as number[] };
  for (let round = 1; round <= rounds; round++) {
    // Alternate which path goes first, so neither always runs right after the other's garbage.
    for (const path of round % 2 === 0 ? (['now', 'before'] as const) : (['before', 'now'] as const)) {
      const c0 = cpuMs();
      if (path === 'now') {
        trainer.setWeights(initial);
        await trainer.fit({ round, epochs: 1, batchSize: 32, learningRate: 0.05 });
      } else {
        writeModelWeights(reference, initial);
        await trainOnBatchRound(reference, referenceData, share.rows, round);
      }
      if (round > 5) cpu[path].push(cpuMs() - c0);
    }
    const [a, b] = [trainer.getWeights(), readModelWeights(reference)];
    identical &&= a.every((t, i) => sameBits(t.data, b[i]!.data));
  }
  const [now, before] = [median(cpu.now), median(cpu.before)];
  ratios.push(now / before);
  rows.push([String(clients), String(share.rows), String(Math.ceil(share.rows / 32)), `${before.toFixed(2)} ms`, `${now.toFixed(2)} ms`, `${(now / before).toFixed(2)}x`]);
  trainer.dispose();
  reference.dispose();
  tf.dispose([referenceData.x, referenceData.y]);
}
console.log(`one client's local round, ${backend}, ${initial.reduce((s, t) => s + t.data.length, 0).toLocaleString('en')} parameters, CPU per round (median of ${rounds - 5}):`);
console.log(formatTable(['share of', 'rows', 'batches', 'compile + trainOnBatch', 'batchStep (now)', 'now / before'], rows));
printResult('trainStep.round_cpu_at_10_clients_share', ratios[1]!, 'x the trainOnBatch round', '< 1', ratios[1]! < 1);
printResult('trainStep.same_weights', identical ? 1 : 0, '(1 = every round, to the bit)', '1', identical);
