import { afterEach, describe, expect, it } from 'vitest';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity, type Identity } from '../../../src/crypto/identity.js';
import { dpEncoding } from '../../../src/crypto/secagg/dpEncoding.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../../helpers/constantShiftTrainer.js';
import { TestFederation } from '../../helpers/federation.js';
import { silent } from '../../helpers/silentLogger.js';

const SIZE = 120_000;
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: new Float32Array(SIZE) }];
const fit = { epochs: 1, batchSize: 1, learningRate: 1 };

let fed: TestFederation;
afterEach(async () => fed.close());

describe('distributed DP under SecAgg+ (Kairouz, Liu, Steinke 2021)', () => {
  it('each client adds its discrete Gaussian share before masking: the mean carries noise of std z x sensitivity / m, charged as z sqrt((m - c) / m)', async () => {
    fed = new TestFederation();
    const names = ['a', 'b', 'c', 'd'];
    const identities = Object.fromEntries(names.map((n) => [n, generateIdentity()])) as Record<string, Identity>;
    const roster = names.map((name) => ({ name, identityKey: identities[name]!.publicKey }));
    const z = 1.2;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 4, minAvailableClients: 4, fractionEvaluate: 0, fit }),
      initialWeights: initial(),
      rounds: 1,
      secureAggregation: 'secaggplus',
      privacy: { clipNorm: 1, noiseMultiplier: z, delta: 1e-5 },
      logger: silent,
    });
    // A shift of 0.002 in each of 120k values has norm 0.69, inside C = 1: no clipping.
    for (const name of names) fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), 0.002, 10), { logger: silent, identity: identities[name]!, security: { mode: 'secaggplus', roster, minNoiseMultiplier: 1 } });
    const result = await coordinator.run();
    const w = result.weights[0]!.data;
    let mean = 0;
    for (const v of w) mean += v;
    mean /= SIZE;
    let variance = 0;
    for (const v of w) variance += (v - mean) ** 2;
    const std = Math.sqrt(variance / (SIZE - 1));
    const { scale, sensitivity } = dpEncoding(1, SIZE);
    // Four shares of ceil(z x sensitivity / 2) grid steps each, summed, off the grid, over 4 contributors.
    const expected = (Math.sqrt(4) * Math.ceil((z / 2) * sensitivity)) / scale / 4;
    expect(Math.abs(std / expected - 1)).toBeLessThan(0.02);
    expect(Math.abs(mean - 0.002)).toBeLessThan((5 * expected) / Math.sqrt(SIZE));
    // The ledger: all four shares present, one tolerated colluder knows its own.
    const privacy = result.history[0]!.privacy!;
    expect(privacy.noiseMultiplier).toBeCloseTo(z * Math.sqrt(3 / 4), 12);
    expect(privacy.epsilon).toBeGreaterThan(0);
  });

  it('a client whose floor is above the task\'s noise refuses it; a run without a fixed clip norm is refused at start', async () => {
    fed = new TestFederation();
    // Five sites (k = 4, t = 3): the one that refuses is a dropout the others' shares recover from.
    const names = ['a', 'b', 'c', 'd', 'e'];
    const identities = Object.fromEntries(names.map((n) => [n, generateIdentity()])) as Record<string, Identity>;
    const roster = names.map((name) => ({ name, identityKey: identities[name]!.publicKey }));
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 5, minAvailableClients: 5, fractionEvaluate: 0, fit }),
      initialWeights: initial(),
      rounds: 1,
      maxRoundRetries: 0,
      secureAggregation: 'secaggplus',
      privacy: { clipNorm: 1, noiseMultiplier: 0.8, delta: 1e-5 },
      logger: silent,
    });
    const refused: string[] = [];
    for (const name of names) {
      fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), 0.001, 10), {
        logger: silent,
        identity: identities[name]!,
        security: { mode: 'secaggplus', roster, ...(name === 'c' ? { minNoiseMultiplier: 1 } : {}) },
        audit: { append: (type, data) => void (type === 'task-refused' && refused.push(String(data.reason))) },
      });
    }
    await expect(coordinator.run()).rejects.toThrow(/4 of the 5 required updates arrived \[c: .*below this node's minimum 1\)\]/);
    expect(refused[0]).toMatch(/noise multiplier is 0.8000 \(5 shares of 0.3578\), below this node's minimum 1/);
    await expect(
      fed.coordinator({ strategy: new FedAvg({ minFitClients: 3, fit }), initialWeights: initial(), rounds: 1, secureAggregation: 'secaggplus', privacy: { noiseMultiplier: 1, delta: 1e-5, clipNorm: { initialClipNorm: 1, targetQuantile: 0.5, learningRate: 0.2, countNoiseStd: 1 } }, logger: silent }),
    ).rejects.toThrow(/needs a fixed privacy.clipNorm/);
  });
});
