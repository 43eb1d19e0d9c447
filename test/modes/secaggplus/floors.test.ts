import { afterEach, describe, expect, it } from 'vitest';
import { clientSecurityConfigSchema } from '../../../src/cli/config/securityConfig.js';
import { resolveSecurityPolicy } from '../../../src/client/security/securityPolicy.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity, type Identity } from '../../../src/crypto/identity.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../../helpers/constantShiftTrainer.js';
import { TestFederation } from '../../helpers/federation.js';
import { silent } from '../../helpers/silentLogger.js';
import { Colluder, ROUND, RUN, runUpToUpload } from './harness.js';

// A hospital's own floors on SecAgg+ (security.secaggplus): the coordinator chooses k and t, within them.
const SIZE = 100_000;
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: new Float32Array(SIZE) }];
const updates = (names: readonly string[]) => new Map(names.map((n) => [n, new Uint32Array(64).fill(1)]));

let fed: TestFederation | undefined;
afterEach(async () => fed?.close());

describe('a node\'s SecAgg+ floors', () => {
  it('a coordinator that sets a lower threshold is refused at the key exchange, audited, and the node\'s update never leaves', async () => {
    fed = new TestFederation();
    const names = ['a', 'b', 'c', 'd', 'e', 'careful'];
    const identities = Object.fromEntries(names.map((n) => [n, generateIdentity()])) as Record<string, Identity>;
    const roster = names.map((name) => ({ name, identityKey: identities[name]!.publicKey }));
    const audits: Record<string, { type: string; data: Readonly<Record<string, unknown>> }[]> = Object.fromEntries(names.map((n) => [n, []]));
    // Six members, the complete graph (5 neighbours); the coordinator asks for t = 3, the least t > k / 2 allows.
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 5, minAvailableClients: 6, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: initial(),
      rounds: 1,
      roundTimeoutMs: 120_000,
      secureAggregation: 'secaggplus',
      secaggplus: { threshold: 3 },
      logger: silent,
    });
    for (const name of names) {
      // 'careful' would add 100 to every value: any trace of it in the mean shows.
      fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), name === 'careful' ? 100 : 0.5, 10), {
        logger: silent,
        identity: identities[name]!,
        security: { mode: 'secaggplus', roster, ...(name === 'careful' ? { secaggplus: { minThreshold: 4 } } : {}) },
        audit: { append: (type, data) => void audits[name]!.push({ type, data }) },
      });
    }
    const result = await coordinator.run();
    const failed = result.history[0]!.fit!.outcomes.filter((o) => 'failure' in o && o.failure !== undefined);
    expect(failed.map((o) => o.client)).toEqual(['careful']);
    expect(JSON.stringify(failed[0])).toMatch(/SecAgg\+ share keys: .*threshold to 3, below this node's security.secaggplus.minThreshold 4/);
    const refusal = audits.careful!.find((x) => x.type === 'secaggplus-refused');
    expect(refusal?.data).toMatchObject({ stage: 'secagg-share-keys' });
    expect(String(refusal?.data.reason)).toMatch(/minThreshold 4/);
    expect(audits.careful!.some((x) => x.type === 'upload-sent')).toBe(false);
    // The five others went on without it: their mean shift, nothing of careful's 100.
    const w = result.weights[0]!.data;
    for (const i of [0, 50_000, SIZE - 1]) expect(Math.abs(w[i]! - 0.5)).toBeLessThan(1e-4);
  }, 120_000);

  it('fewer neighbours or members than the floor are refused before any share is sealed', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    // Degree 2 in a round of 5: a node that wants 4 neighbours refuses; one that wants 6 members refuses.
    await expect(runUpToUpload(names, [], 2, 2, updates(names), { c: { minNeighbours: 4 } })).rejects.toThrow(/mask with 2 neighbours, fewer than this node's security.secaggplus.minNeighbours 4/);
    await expect(runUpToUpload(names, [], 2, 2, updates(names), { d: { minCohort: 6 } })).rejects.toThrow(/the round has 5 members, fewer than this node's security.secaggplus.minCohort 6/);
    // At the floors exactly, the round goes on.
    const round = await runUpToUpload(names, [], 4, 3, updates(names), { a: { minNeighbours: 4, minThreshold: 3, minCohort: 5 } });
    expect(round.masked.size).toBe(5);
  });

  it('a survivor set smaller than the cohort floor gets no signature and no shares', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const round = await runUpToUpload(names, ['x'], 4, 3, updates(names), { a: { minCohort: 5 } });
    // The coordinator drops three members from the set: still at least t = 3, but a sum of 3 updates.
    const survivors = ['a', 'b', 'c'];
    expect(() => round.honest.get('a')!.signSurvivors({ type: 'secagg-consistency', round: ROUND, survivors }, RUN)).toThrow(/the sum would cover 3 survivors, fewer than this node's security.secaggplus.minCohort 5/);
    // Without a floor, b signs the same set (the control).
    expect(round.honest.get('b')!.signSurvivors({ type: 'secagg-consistency', round: ROUND, survivors }, RUN).signature).toBeTruthy();
    expect(round.colluders.get('x')).toBeInstanceOf(Colluder);
  });

  it('are checked when the config is read, naming the setting', () => {
    const roster = [{ name: 'a', identityKey: generateIdentity().publicKey }];
    expect(() => resolveSecurityPolicy({ mode: 'secaggplus', roster, secaggplus: { minThreshold: 1 } }, 'http://127.0.0.1:1')).toThrow(/security.secaggplus.minThreshold must be an integer of at least 2, got 1/);
    expect(() => resolveSecurityPolicy({ mode: 'secaggplus', roster, secaggplus: { minCohort: 2.5 } }, 'http://127.0.0.1:1')).toThrow(/security.secaggplus.minCohort must be an integer of at least 3/);
    expect(clientSecurityConfigSchema.parse({ mode: 'secaggplus', secaggplus: { minThreshold: 10, minNeighbours: 16, minCohort: 20 } }).secaggplus).toEqual({ minThreshold: 10, minNeighbours: 16, minCohort: 20 });
    expect(() => clientSecurityConfigSchema.parse({ secaggplus: { minTreshold: 10 } })).toThrow(/minTreshold/);
  });
});
