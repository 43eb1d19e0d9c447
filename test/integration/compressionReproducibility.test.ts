import { afterEach, describe, expect, it } from 'vitest';
import type { EvaluateConfig, FitConfig, Trainer } from '../../src/client/trainer.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { weightsHash } from '../../src/coordinator/weightsHash.js';
import type { CompressionOptions } from '../../src/protocol/compression.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { TestFederation } from '../helpers/federation.js';
import { silent } from '../helpers/silentLogger.js';

const SIZE = 10_000;
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: new Float32Array(SIZE) }];

/** Moves every value by a different amount (phase `phase`), so int8's rounding has coins to toss in every block. */
class WavyTrainer implements Trainer {
  private weights = initial();
  constructor(private readonly phase: number) {}
  describe() {
    return { numTrainExamples: 10, numTestExamples: 1, backend: 'js' };
  }
  getWeights() {
    return this.weights;
  }
  setWeights(weights: Weights) {
    this.weights = weights;
  }
  async fit(config: FitConfig) {
    const data = Float32Array.from(this.weights[0]!.data, (v, i) => v + Math.sin(i * 0.37 + this.phase + config.round) * 1e-2);
    this.weights = [{ name: 'w', shape: [SIZE], data }];
    return { numExamples: 10, metrics: {} };
  }
  async evaluate(_config: EvaluateConfig) {
    return { numExamples: 1, loss: 0, metrics: {} };
  }
}

let fed: TestFederation;
afterEach(async () => fed.close());

async function run(seed: number, compression?: CompressionOptions): Promise<string> {
  fed = new TestFederation();
  const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 3, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }), initialWeights: initial(), rounds: 3, seed, logger: silent, ...(compression ? { compression } : {}) });
  for (const [i, name] of ['a', 'b', 'c'].entries()) fed.client(coordinator.url, name, new WavyTrainer(i), { logger: silent });
  const result = await coordinator.run();
  await fed.close();
  expect(result.history.flatMap((r) => r.fit.outcomes.filter((o) => o.failure))).toEqual([]);
  return weightsHash(result.weights);
}

describe('compressed runs are reproducible', () => {
  it('int8: the same seed gives a bit-identical model (the rounding coins are seeded), another seed another; both differ from uncompressed', async () => {
    const first = await run(5, { method: 'int8' });
    expect(await run(5, { method: 'int8' })).toBe(first);
    expect(await run(6, { method: 'int8' })).not.toBe(first);
    expect(await run(5)).not.toBe(first);
  });
});
