import { describe, expect, it } from 'vitest';
import { resolveSecurityPolicy } from '../../../src/client/security/securityPolicy.js';
import { evaluateTaskRefusal, fitTaskRefusal, fitTaskTerms } from '../../../src/client/security/taskGate.js';
import { Coordinator } from '../../../src/coordinator/coordinator.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { FedMedian } from '../../../src/coordinator/strategies/fedMedian.js';
import { generateIdentity } from '../../../src/crypto/identity.js';
import { modesFor } from '../../../src/modes/index.js';
import { readSecAggInstructions } from '../../../src/modes/secaggplus/instructions.js';
import { resolveRound } from '../../../src/modes/secaggplus/settings.js';
import { TASK_EXTRAS } from '../../../src/protocol/taskExtras.js';
import { silent } from '../../helpers/silentLogger.js';

const roster = ['a', 'b', 'c'].map((name) => ({ name, identityKey: generateIdentity().publicKey }));
const secaggTask = { [TASK_EXTRAS.secaggWeight]: 0.25, [TASK_EXTRAS.secaggCohortSize]: 4, [TASK_EXTRAS.secaggClippingRange]: 8, [TASK_EXTRAS.secaggBits]: 32 };
const fit = { epochs: 1, batchSize: 1, learningRate: 1 };
const weights = [{ name: 'w', shape: [4], data: new Float32Array(4) }];

describe('a node that requires secaggplus', () => {
  const policy = resolveSecurityPolicy({ mode: 'secaggplus', roster }, 'http://127.0.0.1:1');

  it('needs a roster, and keeps feature statistics home by default', () => {
    expect(() => resolveSecurityPolicy({ mode: 'secaggplus' }, 'http://127.0.0.1:1')).toThrow(/security.mode secaggplus needs security.roster/);
    expect(() => resolveSecurityPolicy({ mode: 'secaggplus', roster }, 'http://example.org:1')).toThrow(/secaggplus over plain http/);
    expect(policy.featureStatistics).toBe(false);
  });

  it('refuses plaintext and ckks fit tasks, takes secaggplus ones, and evaluates the plaintext global', () => {
    expect(fitTaskRefusal(policy, fitTaskTerms({}))).toMatch(/requires secure aggregation secaggplus/);
    expect(fitTaskRefusal(policy, fitTaskTerms(secaggTask))).toBeUndefined();
    expect(evaluateTaskRefusal(policy, 'plain')).toBeUndefined();
    const ckksNode = resolveSecurityPolicy({ mode: 'ckks', roster }, 'http://127.0.0.1:1');
    expect(fitTaskRefusal(ckksNode, fitTaskTerms(secaggTask))).toMatch(/requires secure aggregation ckks/);
  });

  it('with a DP floor, refuses secaggplus tasks (no distributed noise yet) unless its own local DP meets it', () => {
    const floor = resolveSecurityPolicy({ mode: 'secaggplus', roster, minNoiseMultiplier: 1 }, 'http://127.0.0.1:1');
    expect(fitTaskRefusal(floor, fitTaskTerms(secaggTask))).toMatch(/secaggplus adds no distributed noise yet/);
    expect(fitTaskRefusal(floor, fitTaskTerms(secaggTask), { clipNorm: 1, noiseMultiplier: 1.2 })).toBeUndefined();
  });

  it('refuses malformed task terms by name', () => {
    expect(() => readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggWeight]: 2 })).toThrow(/weight must be in \(0, 1\]/);
    expect(() => readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggCohortSize]: 2 })).toThrow(/at least 3/);
    expect(() => readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggBits]: 16 })).toThrow(/32 bits/);
  });
});

describe('the secaggplus coordinator settings', () => {
  it('derive k of order log n and t above k / 2, and refuse what cannot protect', () => {
    expect(resolveRound({}, 100)).toMatchObject({ neighbours: 20, degree: 20, threshold: 14 });
    expect(resolveRound({}, 5)).toMatchObject({ degree: 4, threshold: 3 });
    expect(() => resolveRound({ neighbours: 10, threshold: 5 }, 100)).toThrow(/not above half/);
    expect(() => resolveRound({}, 2)).toThrow(/at least 3 clients/);
  });

  it('are checked at start, and a strategy that needs every update or DP without distributed noise is refused', async () => {
    const start = (extra: object) => Coordinator.start({ strategy: new FedAvg({ fit }), initialWeights: weights, rounds: 1, secureAggregation: 'secaggplus', logger: silent, ...extra });
    await expect(start({ secaggplus: { neighbours: 5 } })).rejects.toThrow(/neighbours must be an even integer/);
    await expect(start({ secaggplus: { bits: 16 } })).rejects.toThrow(/bits must be 32/);
    await expect(start({ privacy: { noiseMultiplier: 1, delta: 1e-5, clipNorm: 1 } })).rejects.toThrow(/not implemented yet/);
    await expect(start({ strategy: new FedMedian({ fit }) })).rejects.toThrow(/needs every individual update, which SecAgg\+ hides/);
    expect(modesFor(new FedAvg({ fit }).capabilities)).toContain('secaggplus');
  });
});
