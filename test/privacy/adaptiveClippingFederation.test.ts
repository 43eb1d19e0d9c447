import { silent } from '../helpers/silentLogger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { withClipNorm } from '../../src/coordinator/aggregation/clipNormStrategy.js';
import { DpMean } from '../../src/coordinator/aggregation/dpMean.js';
import { StreamingMean } from '../../src/coordinator/aggregation/streamingMean.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';

const zeros = linearZeros;

let fed: TestFederation;
afterEach(async () => fed.close());

describe('adaptive clipping in a federation', () => {
  it('sends every round its C, counts the updates the clients clipped as clipped, and grows C toward the median norm', async () => {
    fed = new TestFederation();
    // C_0 far below every update norm: each client clips to it before sending, so no update is within C,
    // b = 0 and C grows by exp(eta gamma) = exp(0.1) a round. Noise 0 keeps the numbers exact.
    const aggregator = new DpMean(new StreamingMean(), { clipNorm: { initialClipNorm: 0.01, targetQuantile: 0.5, countNoiseStd: 0 }, noiseMultiplier: 0 });
    const seenByServer: NonNullable<NonNullable<DpMean['measurements']>['adaptive']>[] = [];
    const coordinator = await fed.coordinator({
      strategy: withClipNorm(new FedAvg({ minFitClients: 3, fit: { epochs: 2, batchSize: 8, learningRate: 0.2 } }), aggregator),
      initialWeights: zeros(),
      rounds: 4,
      logger: silent,
      onRound: () => void seenByServer.push(aggregator.measurements!.adaptive!),
    });
    const sent: number[][] = [[], [], []];
    for (let i = 0; i < 3; i++) {
      const d = linearData(20, i + 1);
      const trainer = new LinearTrainer(d.xs, d.ys, `h${i}`);
      trainer.beforeFit = (config) => void sent[i]!.push(config.extra?.clipNorm as number);
      fed.client(coordinator.url, `h${i}`, trainer, { logger: silent });
    }
    const result = await coordinator.run();
    expect(result.history).toHaveLength(4);
    const expected = [0, 1, 2, 3].map((r) => 0.01 * Math.exp(0.1 * r));
    for (const s of sent) s.forEach((c, r) => expect(c).toBeCloseTo(expected[r]!, 12));
    seenByServer.forEach((m, r) => {
      expect(m.clipNorm).toBeCloseTo(expected[r]!, 12);
      expect(m.unclippedFraction).toBe(0);
    });
    // Every update arrived at norm C: the model moved by at most the sum of the rounds' C.
    const moved = Math.hypot(...result.weights.flatMap((t) => Array.from(t.data)));
    expect(moved).toBeLessThanOrEqual(expected.reduce((s, c) => s + c, 0) * (1 + 1e-5));
  });
});
