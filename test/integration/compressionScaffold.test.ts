import { afterEach, describe, expect, it } from 'vitest';
import { Scaffold } from '../../src/coordinator/strategies/scaffold.js';
import type { CompressionOptions } from '../../src/protocol/compression.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { silent } from '../helpers/silentLogger.js';

let fed: TestFederation;
afterEach(async () => fed.close());

/** SCAFFOLD's [delta_y; delta_c] upload compressed like any other: 3 clients fit y = 2 x0 - 3 x1 + 1. */
async function scaffold(compression?: CompressionOptions) {
  fed = new TestFederation();
  const coordinator = await fed.coordinator({
    strategy: new Scaffold({ minFitClients: 3, totalClients: 3, fractionEvaluate: 0, fit: { epochs: 3, batchSize: 16, learningRate: 0.1 } }),
    initialWeights: linearZeros(),
    rounds: 30,
    seed: 1,
    logger: silent,
    ...(compression ? { compression } : {}),
  });
  for (const seed of [1, 2, 3]) {
    const d = linearData(16, seed);
    fed.client(coordinator.url, `site-${seed}`, new LinearTrainer(d.xs, d.ys, `site-${seed}`), { logger: silent });
  }
  const result = await coordinator.run();
  const received = coordinator.socketBytes.received;
  await fed.close();
  expect(result.history.flatMap((r) => r.fit.outcomes.filter((o) => o.failure))).toEqual([]);
  return { model: [...result.weights[0]!.data, ...result.weights[1]!.data], received };
}

describe('compression under SCAFFOLD', () => {
  it('compresses the whole [delta_y; delta_c] upload (error feedback on both halves) and still converges to the line', async () => {
    const dense = await scaffold();
    for (const compression of [{ method: 'int8' }, { method: 'topk', fraction: 0.5 }] as const) {
      const { model } = await scaffold(compression);
      expect(model).not.toEqual(dense.model); // the uploads were compressed (a dense one would be refused)
      // Top-k at 0.5 keeps 3 of the 6 values a round; error feedback delivers the rest later.
      expect(model[0]).toBeCloseTo(2, 1);
      expect(model[1]).toBeCloseTo(-3, 1);
      expect(model[2]).toBeCloseTo(1, 1);
    }
  });
});
