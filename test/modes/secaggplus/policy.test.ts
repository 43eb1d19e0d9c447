import { describe, expect, it } from 'vitest';
import { resolveSecurityPolicy } from '../../../src/client/security/securityPolicy.js';
import { evaluateTaskRefusal, fitTaskRefusal, fitTaskTerms } from '../../../src/client/security/taskGate.js';
import { experimentConfigSchema } from '../../../src/cli/config/experimentConfig.js';
import { clientSecurityConfigSchema } from '../../../src/cli/config/securityConfig.js';
import { AccessList } from '../../../src/coordinator/accessList.js';
import { Coordinator } from '../../../src/coordinator/coordinator.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { FedMedian } from '../../../src/coordinator/strategies/fedMedian.js';
import { generateIdentity } from '../../../src/crypto/identity.js';
import { modesFor } from '../../../src/modes/index.js';
import { readSecAggInstructions } from '../../../src/modes/secaggplus/instructions.js';
import { resolveRound } from '../../../src/modes/secaggplus/settings.js';
import { TASK_EXTRAS } from '../../../src/protocol/taskExtras.js';
import { silent } from '../../helpers/silentLogger.js';

const roster = ['a', 'b', 'c', 'd'].map((name) => ({ name, identityKey: generateIdentity().publicKey }));
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

  it('with a DP floor, checks the distributed noise a task asks for (or its own local DP)', () => {
    const floor = resolveSecurityPolicy({ mode: 'secaggplus', roster, minNoiseMultiplier: 1, maxClipNorm: 2 }, 'http://127.0.0.1:1');
    const dp = (share: number, extra: object = {}) => fitTaskTerms({ ...secaggTask, [TASK_EXTRAS.clipNorm]: 1, [TASK_EXTRAS.dpNoiseShare]: share, ...extra });
    expect(fitTaskRefusal(floor, fitTaskTerms(secaggTask))).toMatch(/adds no DP noise/);
    expect(fitTaskRefusal(floor, fitTaskTerms(secaggTask), { clipNorm: 1, noiseMultiplier: 1.2 })).toBeUndefined();
    // Four shares of 0.6 add up to a multiplier of 1.2; of 0.4, to 0.8.
    expect(fitTaskRefusal(floor, dp(0.6))).toBeUndefined();
    expect(fitTaskRefusal(floor, dp(0.4))).toMatch(/noise multiplier is 0.8000 .* below this node's minimum 1/);
    expect(fitTaskRefusal(floor, dp(0.6, { [TASK_EXTRAS.clipNorm]: 3 }))).toMatch(/clips to 3, above this node's maximum clip norm 2/);
    expect(fitTaskRefusal(floor, dp(0.6, { [TASK_EXTRAS.secaggWeight]: 0.5 }))).toMatch(/every client must weigh 1\/4/);
    expect(fitTaskRefusal(floor, dp(0.6, { [TASK_EXTRAS.secaggCohortSize]: 8, [TASK_EXTRAS.secaggWeight]: 0.125 }))).toMatch(/cohort of 8 clients, more than the 4/);
    expect(fitTaskRefusal(floor, fitTaskTerms({ ...secaggTask, [TASK_EXTRAS.clipNorm]: 1 }))).toMatch(/needs both clipNorm and dpNoiseShare/);
  });

  it('refuses malformed task terms by name', () => {
    expect(() => readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggWeight]: 2 })).toThrow(/weight must be in \(0, 1\]/);
    expect(() => readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggCohortSize]: 2 })).toThrow(/at least 3/);
    expect(() => readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggBits]: 7 })).toThrow(/ring must be an integer from 8 to 32 bits, got 7/);
    expect(() => readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggBits]: 16.5 })).toThrow(/from 8 to 32 bits/);
    expect(readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggBits]: 16 })?.bits).toBe(16);
    // The DP grid is sized for the 32-bit ring: a DP task in a narrower one is refused.
    expect(() => readSecAggInstructions({ ...secaggTask, [TASK_EXTRAS.secaggBits]: 16, [TASK_EXTRAS.clipNorm]: 1, [TASK_EXTRAS.dpNoiseShare]: 0.5 })).toThrow(/DP task needs the 32-bit ring .* got 16 bits/);
  });
});

describe('the secaggplus coordinator settings', () => {
  it('derive k of order log n and t above k / 2, and refuse what cannot protect', () => {
    expect(resolveRound({}, 100)).toMatchObject({ neighbours: 20, degree: 20, threshold: 14 });
    expect(resolveRound({}, 5)).toMatchObject({ degree: 4, threshold: 3 });
    expect(() => resolveRound({ neighbours: 10, threshold: 5 }, 100)).toThrow(/not above half/);
    expect(() => resolveRound({}, 2)).toThrow(/at least 3 clients/);
  });

  it('are checked at start, and a strategy that needs every update is refused', async () => {
    const start = (extra: object) => Coordinator.start({ strategy: new FedAvg({ fit }), initialWeights: weights, rounds: 1, secureAggregation: 'secaggplus', logger: silent, ...extra });
    await expect(start({ secaggplus: { neighbours: 5 } })).rejects.toThrow(/neighbours must be an even integer/);
    await expect(start({ secaggplus: { bits: 7 } })).rejects.toThrow(/bits must be an integer from 8 to 32, got 7/);
    await expect(start({ secaggplus: { bits: 16 }, privacy: { clipNorm: 1, noiseMultiplier: 1 } })).rejects.toThrow(/differential privacy with secureAggregation: secaggplus needs secaggplus.bits 32 \(got 16\)/);
    await expect(start({ strategy: new FedMedian({ fit }) })).rejects.toThrow(/needs every individual update, which SecAgg\+ hides/);
    expect(modesFor(new FedAvg({ fit }).capabilities)).toContain('secaggplus');
  });
});

describe('the start-time threshold check', () => {
  it('uses the degree the allowlisted cohort\'s graph really has (k, or n - 1 once k reaches it), not k', async () => {
    const access = (clients: number) => AccessList.of(Array.from({ length: clients }, (_, i) => ({ name: `site-${i}`, publicKey: generateIdentity().publicKey, role: 'client' as const })));
    const start = (secaggplus: object, extra: object = {}) => Coordinator.start({ strategy: new FedAvg({ fit }), initialWeights: weights, rounds: 1, secureAggregation: 'secaggplus', secaggplus, logger: silent, ...extra });
    // 20 clients allowed, neighbours 20: the graph is complete, 19 neighbours each, so t = 10 is above half of them.
    const coordinator = await start({ neighbours: 20, threshold: 10 }, { access: access(20) });
    await coordinator.close();
    await expect(start({ neighbours: 20, threshold: 9 }, { access: access(20) })).rejects.toThrow(/with the 20 clients allowed the graph is complete: 19 neighbours each\): the threshold 9 is not above half of the 19 neighbours/);
    await expect(start({ neighbours: 20, threshold: 20 }, { access: access(20) })).rejects.toThrow(/the threshold 20 exceeds the 19 neighbours/);
    // With more clients allowed than k, or no allowlist (any cohort), t is checked against k itself.
    await expect(start({ neighbours: 20, threshold: 10 }, { access: access(30) })).rejects.toThrow(/the threshold 10 is not above half of the 20 neighbours/);
    await expect(start({ neighbours: 20, threshold: 10 })).rejects.toThrow(/the threshold 10 is not above half of the 20 neighbours/);
  });
});

describe('secaggplus in the configs', () => {
  it('an experiment takes secureAggregation: secaggplus with its options, and a client may require it', () => {
    const parsed = experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, secureAggregation: 'secaggplus', secaggplus: { neighbours: 6, threshold: 4 } });
    expect(parsed.secureAggregation).toBe('secaggplus');
    expect(parsed.secaggplus).toEqual({ neighbours: 6, threshold: 4 });
    expect(experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, secureAggregation: 'secaggplus', secaggplus: { bits: 16 } }).secaggplus).toEqual({ bits: 16 });
    expect(() => experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, secureAggregation: 'secaggplus', secaggplus: { bits: 7 } })).toThrow();
    expect(() => experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, secaggplus: { neighbours: 6, typo: 1 } })).toThrow(/typo/);
    expect(clientSecurityConfigSchema.parse({ mode: 'secaggplus' }).mode).toBe('secaggplus');
  });
});
