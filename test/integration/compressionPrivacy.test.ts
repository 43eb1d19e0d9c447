import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/client/clientOptions.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { topKCount, type CompressionOptions } from '../../src/protocol/compression.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../helpers/constantShiftTrainer.js';
import { TestFederation } from '../helpers/federation.js';
import { silent } from '../helpers/silentLogger.js';

const SIZE = 120_000;
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: new Float32Array(SIZE) }];
const fit = { epochs: 1, batchSize: 1, learningRate: 1 };

let fed: TestFederation;
afterEach(async () => fed.close());

describe('compression with differential privacy (post-processing: the ledger is unchanged)', () => {
  it('central DP in plain mode: the coordinator clips the decoded update and charges the same epsilon, compressed or not', async () => {
    const run = async (compression?: CompressionOptions) => {
      fed = new TestFederation();
      const coordinator = await fed.coordinator({
        strategy: new FedAvg({ minFitClients: 3, fractionEvaluate: 0, fit }),
        initialWeights: initial(),
        rounds: 2,
        seed: 8,
        privacy: { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5 },
        logger: silent,
        ...(compression ? { compression } : {}),
      });
      // A shift of 0.01 in each of 120k values has norm 3.5: every update is clipped, by the client and again by the coordinator.
      for (const name of ['a', 'b', 'c']) fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), 0.01, 10), { logger: silent });
      const result = await coordinator.run();
      const received = coordinator.socketBytes.received;
      await fed.close();
      const rounds = result.history.map((r) => ({ failed: r.fit.outcomes.filter((o) => o.failure).length, epsilon: r.privacy!.epsilon, clipped: r.privacy!.clipped, noise: r.privacy!.noiseMultiplier }));
      return Object.assign(rounds, { received });
    };
    const plain = await run();
    expect(plain[1]!.epsilon).toBeGreaterThan(plain[0]!.epsilon);
    for (const compression of [{ method: 'int8' }, { method: 'topk', fraction: 0.1 }] as const) {
      const compressed = await run(compression);
      expect(compressed.map((r) => r.failed)).toEqual([0, 0]);
      expect(compressed.received).toBeLessThan(plain.received / 3.5); // the uploads were compressed
      // The same noise charged, the same epsilon; only how many decoded updates the coordinator had to clip differs.
      expect(compressed.map(({ epsilon, noise }) => ({ epsilon, noise }))).toEqual(plain.map(({ epsilon, noise }) => ({ epsilon, noise })));
      console.log(`${compression.method}: updates the coordinator clipped a round ${compressed.map((r) => r.clipped).join(', ')} (uncompressed ${plain.map((r) => r.clipped).join(', ')})`);
    }
  });

  it('local DP: compression runs after the noise, so what leaves the site is the noised update compressed (never the clean one), and the node charges the same epsilon', async () => {
    const run = async (compression?: CompressionOptions) => {
      fed = new TestFederation();
      const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fractionEvaluate: 0, fit }), initialWeights: initial(), rounds: 1, seed: 2, logger: silent, ...(compression ? { compression } : {}) });
      const events: ClientEvent[] = [];
      // The clipped update is 0.0029 in every value (norm 1); the local noise has std z C = 1 in every value.
      fed.client(coordinator.url, 'site', new ConstantShiftTrainer(initial(), 0.01, 10), { logger: silent, identity: generateIdentity(), localPrivacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 }, onEvent: (e) => void events.push(e) });
      const result = await coordinator.run();
      await fed.close();
      return { w: result.weights[0]!.data, epsilon: events.filter((e) => e.type === 'local-privacy').map((e) => (e as { epsilon: number }).epsilon) };
    };
    const dense = await run();
    const sparse = await run({ method: 'topk', fraction: 0.1 });
    const kept = Array.from(sparse.w).filter((v) => v !== 0);
    expect(kept).toHaveLength(topKCount(0.1, SIZE));
    // The top 10 % of N(0, 1) noise lies beyond 1.64 in magnitude; of the clean update, every value is 0.0029.
    expect(Math.min(...kept.map(Math.abs))).toBeGreaterThan(1.5);
    expect(sparse.epsilon).toEqual(dense.epsilon);
    expect(sparse.epsilon).toHaveLength(1);
  });
});
