import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientHandle } from '../../../src/client/clientNode.js';
import type { FitConfig, Trainer } from '../../../src/client/trainer.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity, type Identity } from '../../../src/crypto/identity.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../../helpers/constantShiftTrainer.js';
import { TestFederation } from '../../helpers/federation.js';
import { silent } from '../../helpers/silentLogger.js';

const SIZE = 120_000;
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: Float32Array.from({ length: SIZE }, (_, i) => (i % 1024) / 64) }];

/** A trainer that waits before fitting (so a faster client's upload lands first), or fails (a dropout before upload). */
class Paced implements Trainer {
  constructor(
    private readonly inner: ConstantShiftTrainer,
    private readonly delayMs: number,
    private readonly fails = false,
  ) {}
  describe() {
    return this.inner.describe();
  }
  getWeights() {
    return this.inner.getWeights();
  }
  setWeights(w: Weights) {
    this.inner.setWeights(w);
  }
  async fit(config: FitConfig) {
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.fails) throw new Error('site went offline before uploading');
    return this.inner.fit(config);
  }
  async evaluate() {
    return { numExamples: 1, loss: 0, metrics: {} };
  }
}

let fed: TestFederation;
afterEach(async () => fed.close());

describe('SecAgg+ over loopback sockets with real crypto', () => {
  it('recovers from a dropout before upload and one after: the unmasked sum equals the survivors\' encodings exactly', async () => {
    fed = new TestFederation();
    // Eight sites, a 6-regular graph (not complete), threshold 4. Updates of +-1000 weigh +-125 and clip to the
    // range 8, so each encodes to exactly L or 0 and the survivors' sum is known to the bit.
    const names = ['s0', 's1', 's2', 's3', 's4', 's5', 'drop-before', 'drop-after'];
    const shifts: Record<string, number> = { s0: 1000, s1: -1000, s2: 1000, s3: -1000, s4: 1000, s5: -1000, 'drop-before': 1000, 'drop-after': 1000 };
    const identities = Object.fromEntries(names.map((n) => [n, generateIdentity()])) as Record<string, Identity>;
    const roster = names.map((name) => ({ name, identityKey: identities[name]!.publicKey }));
    const handles = new Map<string, ClientHandle>();
    const audited: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 7, minAvailableClients: 8, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: initial(),
      rounds: 1,
      secureAggregation: 'secaggplus',
      secaggplus: { neighbours: 6, threshold: 4 },
      logger: silent,
      audit: {
        append: (type, data) => {
          audited.push({ type, data });
          // The moment its masked update is in, this site goes offline: before the consistency round.
          if (type === 'upload-accepted' && data.client === 'drop-after') void handles.get('drop-after')!.stop();
        },
      },
    });
    for (const name of names) {
      const inner = new ConstantShiftTrainer(initial(), shifts[name]!, 10);
      const trainer = new Paced(inner, name === 'drop-after' ? 0 : 600, name === 'drop-before');
      handles.set(name, fed.client(coordinator.url, name, trainer, { logger: silent, identity: identities[name]!, security: { mode: 'secaggplus', roster } }));
    }
    const result = await coordinator.run();
    const unmasked = audited.find((e) => e.type === 'secaggplus-unmasked')!.data;
    expect(unmasked.survivors).toEqual(['drop-after', 's0', 's1', 's2', 's3', 's4', 's5']);
    expect(unmasked.droppedMaskKeys).toBe(1);
    expect(unmasked.revealers).toBe(6);
    // The exact check: L = floor((2^32 - 1) / 8) per positive survivor (4 of them), 0 per negative one.
    const levels = Math.floor((2 ** 32 - 1) / 8);
    const expected = new Uint32Array(SIZE).fill(4 * levels);
    expect(unmasked.sumSha256).toBe(createHash('sha256').update(expected).digest('hex'));
    // The strategy got the plaintext-style mean: the survivors' clipped weighted values (4 x 8 - 3 x 8) over their weight 7/8.
    const mean = (4 * 8 - 3 * 8) / (7 / 8);
    const w = result.weights[0]!.data;
    for (const i of [0, 5, 77_777, SIZE - 1]) expect(Math.abs(w[i]! - ((i % 1024) / 64 + mean))).toBeLessThan(1e-4);
    expect(result.history[0]!.fit!.outcomes.filter((o) => !('failure' in o) || o.failure === undefined)).toHaveLength(7);
  });

  it('a client whose roster lacks a member refuses the key exchange at once; the others go on without it', async () => {
    fed = new TestFederation();
    const names = ['a', 'b', 'c', 'd', 'e'];
    const identities = Object.fromEntries(names.map((n) => [n, generateIdentity()])) as Record<string, Identity>;
    const roster = names.map((name) => ({ name, identityKey: identities[name]!.publicKey }));
    const audits: Record<string, { type: string; data: Readonly<Record<string, unknown>> }[]> = Object.fromEntries(names.map((n) => [n, []]));
    // A long deadline: the refusal must come back as the request's answer (the round would otherwise wait it out).
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 4, minAvailableClients: 5, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: initial(),
      rounds: 1,
      roundTimeoutMs: 120_000,
      secureAggregation: 'secaggplus',
      logger: silent,
    });
    for (const name of names) {
      // e's roster lists another site in d's place: e refuses to share keys with a cohort that names d.
      const pinned = name === 'e' ? [...roster.filter((r) => r.name !== 'd'), { name: 'f', identityKey: generateIdentity().publicKey }] : roster;
      fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), 0.5, 10), {
        logger: silent,
        identity: identities[name]!,
        security: { mode: 'secaggplus', roster: pinned },
        audit: { append: (type, data) => void audits[name]!.push({ type, data }) },
      });
    }
    const result = await coordinator.run();
    const outcomes = result.history[0]!.fit!.outcomes;
    const failed = outcomes.filter((o) => 'failure' in o && o.failure !== undefined);
    expect(failed.map((o) => o.client)).toEqual(['e']);
    expect(JSON.stringify(failed[0])).toMatch(/SecAgg\+ share keys: .*\\"d\\" is not on this node's federation roster/);
    expect(audits.e!.find((x) => x.type === 'secaggplus-refused')?.data.stage).toBe('secagg-share-keys');
    const w = result.weights[0]!.data;
    expect(Math.abs(w[9]! - (9 / 64 + 0.5))).toBeLessThan(1e-6);
  }, 60_000);

  it('refuses to run a round of two: each would learn the other\'s update from the sum', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: initial(),
      rounds: 1,
      maxRoundRetries: 0,
      secureAggregation: 'secaggplus',
      logger: silent,
    });
    for (const name of ['a', 'b']) fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), 0.5, 10), { logger: silent });
    await expect(coordinator.run()).rejects.toThrow(/at least 3 clients/);
  });
});
