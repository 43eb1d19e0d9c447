import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { experimentConfigSchema, type ExperimentConfigInput } from '../../../src/cli/config/experimentConfig.js';
import { simulate, type SimulationResult } from '../../../src/cli/simulate.js';
import { writePng } from '../../helpers/imageFiles.js';

const SIZE = 12;
const SITES = ['north', 'central', 'south'];
/** Images per class and site: 48 to train on and 16 to test at each site. */
const PER_CLASS = 32;
let root: string;

/** Class "vertical": a bright column; class "horizontal": a bright row; at positions that differ by site. */
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cohort-cnn-modes-'));
  SITES.forEach((site, s) => {
    for (let n = 0; n < PER_CLASS; n++) {
      const p = (n * 5 + s) % SIZE;
      writePng(join(root, site, 'vertical', `${n}.png`), SIZE, SIZE, (i) => (i % SIZE === p ? 230 : 15 + ((i * 7 + n) % 20)));
      writePng(join(root, site, 'horizontal', `${n}.png`), SIZE, SIZE, (i) => (Math.floor(i / SIZE) === p ? 230 : 15 + ((i * 7 + n) % 20)));
    }
  });
});

/** 111,330 parameters: conv 3x3x16 (160), dense 576 -> 192 (110,784), softmax 192 -> 2 (386). */
const CNN_PARAMETERS = 160 + 576 * 192 + 192 + 192 * 2 + 2;

/** The same small CNN and sites in every mode; `extra` sets the mode. */
async function run(extra: Partial<ExperimentConfigInput>, rounds = 3): Promise<{ result: SimulationResult; lines: string[] }> {
  const lines: string[] = [];
  const config = experimentConfigSchema.parse({
    name: 'cnn-modes',
    seed: 11,
    rounds,
    backend: 'wasm',
    logLevel: 'silent',
    model: {
      type: 'layers',
      inputShape: [SIZE, SIZE, 1],
      outputs: 2,
      layers: [{ type: 'conv2d', filters: 16, kernelSize: 3 }, { type: 'maxPool', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 192 }],
    },
    training: { epochs: 2, batchSize: 16, learningRate: 0.05 },
    strategy: { minFitClients: 3 },
    standardization: 'none',
    dataDefaults: { type: 'images', height: SIZE, width: SIZE, testFraction: 0.25 },
    clients: SITES.map((name) => ({ name, data: { folder: name } })),
    simulation: { workers: 0 },
    centralBaseline: false,
    ...extra,
  });
  const result = await simulate(config, { baseDir: root, print: (l) => lines.push(l) });
  return { result, lines };
}

const everyClientEveryRound = (result: SimulationResult, rounds: number) => {
  expect(result.run.history).toHaveLength(rounds);
  for (const r of result.run.history) expect(r.fit.outcomes.filter((o) => !o.failure).map((o) => o.client).sort()).toEqual([...SITES].sort());
};

describe(`a ${CNN_PARAMETERS.toLocaleString('en')}-parameter CNN on image folders, from a config, in every mode`, () => {
  it('secaggplus: masked sums of the CNN updates train it as plain aggregation does', async () => {
    const plain = await run({});
    const masked = await run({ secureAggregation: 'secaggplus' });
    expect(masked.lines).toContainEqual(expect.stringMatching(/3 clients, 3 rounds, .* secaggplus aggregation$/));
    // The coordinator holds the global model in the clear (the mean is all it learns): the CNN's full size.
    expect(masked.result.run.weights.reduce((n, w) => n + w.data.length, 0)).toBe(CNN_PARAMETERS);
    everyClientEveryRound(masked.result, 3);
    expect(masked.result.pooledAccuracy).toBeGreaterThan(0.8);
    // Quantized to 32 bits with stochastic rounding: the same run as plain, up to rounding of the mean.
    expect(Math.abs(masked.result.pooledAccuracy! - plain.result.pooledAccuracy!)).toBeLessThanOrEqual(0.05);
  });

  it('ckks: the encrypted sums of the CNN updates train it', async () => {
    const { result } = await run({ secureAggregation: 'ckks' });
    everyClientEveryRound(result, 3);
    // The coordinator never holds the model: ciphertexts of every parameter, a 60-bit coefficient (8 bytes) a value.
    expect(result.run.weights).toHaveLength(0);
    expect(result.run.encryptedModel!.bytes).toBeGreaterThanOrEqual(8 * CNN_PARAMETERS);
    expect(result.pooledAccuracy).toBeGreaterThan(0.8);
  });

  it('DP-SGD: per-example clipped and noised gradients of the CNN still learn, and each site reports its epsilon', async () => {
    // A small noise multiplier: 48 images a site cannot buy a useful epsilon (it is printed, in the hundreds); this
    // shows the mechanism (Poisson batches, per-example clipping, Gaussian noise, accounting) runs on a CNN and learns.
    const z = 0.2;
    const { result } = await run({ dpSgd: { clipNorm: 10, noiseMultiplier: z, delta: 1e-3 }, training: { epochs: 2, batchSize: 16, learningRate: 0.1 } });
    everyClientEveryRound(result, 3);
    const last = result.run.history.at(-1)!;
    for (const o of last.fit.outcomes) {
      expect(o.metrics!.dpSgdEpsilon).toBeGreaterThan(0);
      expect(Number.isFinite(o.metrics!.dpSgdEpsilon)).toBe(true);
      expect(o.metrics!.dpSgdNoiseMultiplier).toBe(z);
    }
    // Two classes (chance 0.5), 48 pooled test images. The noise comes from the CSPRNG, unseeded, so the accuracy
    // varies from run to run: 0.69 to 1.0 over ten runs here (the 0.7 this asked before failed about one in ten).
    expect(result.pooledAccuracy).toBeGreaterThan(0.65);
  });
});
