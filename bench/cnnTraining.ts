/**
 * Training speed of McMahan et al.'s MNIST CNN (1,663,370 parameters, from the declarative spec) on the wasm
 * backend (with Cohort's Conv2DBackpropFilter kernel) and on the cpu backend, in one process, alternating so
 * both see the same machine load. Prints examples per second and the wasm/cpu ratio.
 *
 *   npx tsx bench/cnnTraining.ts [--examples 200] [--cpu-examples 20] [--dp-examples 20] [--batch 10] [--repeats 2] [--skip-cpu]
 *
 * Last, DP-SGD on wasm (per-example gradients) against the batched wasm step, the two alternating `--repeats` times
 * so that each ratio compares runs made under the same load.
 * The cpu backend is two orders of magnitude slower on this model, so it trains on fewer examples (--cpu-examples).
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { selectBackend, type BackendName } from '../src/client/backend/index.js';
import { buildModel } from '../src/client/model/buildModel.js';
import { modelSpecSchema } from '../src/client/model/modelSpec.js';
import { TfjsTrainer } from '../src/client/tfjsTrainer.js';

const { values } = parseArgs({
  options: {
    examples: { type: 'string', default: '200' },
    'cpu-examples': { type: 'string', default: '20' },
    'dp-examples': { type: 'string', default: '20' },
    batch: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '2' },
    'skip-cpu': { type: 'boolean', default: false },
  },
  strict: true,
});
const batch = Number(values.batch);
const spec = modelSpecSchema.parse({
  type: 'layers',
  inputShape: [28, 28, 1],
  outputs: 10,
  layers: [
    { type: 'conv2d', filters: 32, kernelSize: 5 },
    { type: 'maxPool', poolSize: 2 },
    { type: 'conv2d', filters: 64, kernelSize: 5 },
    { type: 'maxPool', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 512 },
  ],
});

async function examplesPerSecond(backend: BackendName, dpSgd = false): Promise<number> {
  const examples = Number(dpSgd ? values['dp-examples'] : backend === 'cpu' ? values['cpu-examples'] : values.examples);
  await selectBackend({ preference: backend, env: {}, log: () => undefined });
  const model = buildModel(spec, 784, 1);
  const x = tf.randomUniform([examples, 784], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: examples }, (_, i) => i % 10), 'int32'), 10).toFloat();
  const trainer = new TfjsTrainer({ model, train: { x, y }, loss: 'categoricalCrossentropy', accuracy: true, optimizer: 'sgd', seed: 1, ...(dpSgd ? { dpSgd: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 } } : {}) });
  await trainer.fit({ round: 1, epochs: 1, batchSize: batch, learningRate: 0.01, maxSteps: 2 }); // warm-up
  const start = performance.now();
  await trainer.fit({ round: 2, epochs: 1, batchSize: batch, learningRate: 0.01 });
  const seconds = (performance.now() - start) / 1000;
  trainer.dispose();
  return examples / seconds;
}

const rates: Record<string, number[]> = { wasm: [], cpu: [] };
const backends = values['skip-cpu'] ? (['wasm'] as const) : (['wasm', 'cpu'] as const);
for (let r = 0; r < Number(values.repeats); r++) {
  for (const backend of backends) {
    const rate = await examplesPerSecond(backend);
    rates[backend]!.push(rate);
    console.log(`repeat ${r + 1}: ${backend} ${rate.toFixed(2)} examples/s (batch ${batch})`);
  }
}
const best = (k: string) => Math.max(...rates[k]!);
if (!values['skip-cpu']) {
  console.log(`MNIST CNN (1,663,370 params) training: wasm ${best('wasm').toFixed(1)} examples/s, cpu ${best('cpu').toFixed(2)} examples/s: wasm/cpu = ${(best('wasm') / best('cpu')).toFixed(2)}x (best of ${values.repeats})`);
}

// DP-SGD: one backward pass per example (tfjs has no vmap), on wasm, each run next to a batched run on wasm.
const ratios: number[] = [];
for (let r = 0; r < Number(values.repeats); r++) {
  const dp = await examplesPerSecond('wasm', true);
  const batched = await examplesPerSecond('wasm');
  ratios.push(batched / dp);
  console.log(`repeat ${r + 1}: DP-SGD ${dp.toFixed(2)} examples/s, batched ${batched.toFixed(2)} examples/s: DP-SGD costs ${(batched / dp).toFixed(2)}x per example (batch ${batch})`);
}
ratios.sort((a, b) => a - b);
const middle = ratios.length / 2;
const median = ratios.length % 2 === 1 ? ratios[Math.floor(middle)]! : (ratios[middle - 1]! + ratios[middle]!) / 2;
console.log(`DP-SGD on wasm (per-example gradients, batch ${batch}): ${ratios.map((x) => x.toFixed(2)).join(', ')} x the batched step's time per example (median ${median.toFixed(2)}x)`);
