import { afterEach, describe, expect, it } from 'vitest';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { RdpAccountant } from '../../src/privacy/rdpAccountant.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { silent } from '../helpers/silentLogger.js';

let fed: TestFederation;
afterEach(async () => fed.close());

/**
 * The budget check before a round uses the worst case the round can end in. Three clients, one of which fails every
 * fit (a dropout, accidental or deliberate), minFitClients 2, z = 4, q = 1, delta 1e-5, target 3.8. Every multiplier
 * is charged halved (replace-one adjacency, sensitivity 2C), so these are the accountant's numbers at z / 2 = 2:
 * under distributed noise round 1 is charged at (z / 2) sqrt(2/3) (2 of 3 shares): epsilon 2.7139. Round 2 checked at
 * the nominal z / 2 would bring 3.6171 and run, then be charged at (z / 2) sqrt(2/3) again: 4.0113, past the target
 * (what the code before the worst-case check did). Its worst case refuses it. Under central noise every round costs
 * z / 2: 2.1657, 3.1890, and round 3 would bring 4.0113.
 */
// Plain: central noise at z = 4 (charged at 2). CKKS: distributed shares, one of which a curious client knows, so
// with 2 of 3 shares arriving the noise against it is z sqrt(1/3): z = 4 sqrt(2) makes that charge 2 sqrt(2/3).
const zOf = { plain: 4, ckks: 4 * Math.sqrt(2) } as const;
const z = zOf.plain;
const charged = z / 2;
const epsilonAfter = (...multipliers: number[]) => multipliers.reduce((a, m) => a.step(1, m), new RdpAccountant()).epsilon(1e-5).epsilon;
async function run(mode: 'plain' | 'ckks') {
  const z = zOf[mode];
  fed = new TestFederation();
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 3, fit: { epochs: 2, batchSize: 8, learningRate: 0.2 } }),
    initialWeights: linearZeros(),
    rounds: 5,
    secureAggregation: mode,
    privacy: { clipNorm: 0.5, noiseMultiplier: z, delta: 1e-5, targetEpsilon: 3.8 },
    logger: silent,
  });
  const trainers = [0, 1, 2].map((i) => {
    const d = linearData(20, i + 3);
    return new LinearTrainer(d.xs, d.ys, `h${i}`);
  });
  trainers[2]!.beforeFit = () => {
    throw new Error('dropping out');
  };
  for (const t of trainers) fed.client(coordinator.url, t.name, t, { logger: silent });
  while (coordinator.clients.length < 3) await new Promise((r) => setTimeout(r, 20));
  return coordinator.run();
}

describe('the privacy budget check takes the worst case a round can end in', () => {
  it('ckks (distributed noise): a round that dropouts could take past the target does not start', async () => {
    const result = await run('ckks');
    const epsilons = result.history.map((r) => r.privacy!.epsilon);
    expect(Math.max(...epsilons)).toBeLessThanOrEqual(3.8);
    expect(result.history).toHaveLength(1);
    // h2's share was missing, and the curious client's own share does not count against it: 1 of 3 left.
    const present = zOf.ckks * Math.sqrt(1 / 3);
    expect(result.history[0]!.privacy!.noiseMultiplier).toBeCloseTo(present, 12);
    expect(result.history[0]!.privacy!.chargedMultiplier).toBeCloseTo(present / 2, 12);
    expect(result.history[0]!.privacy!.adjacency).toBe('replace-one');
    const worst = present / 2;
    expect(epsilons[0]).toBeCloseTo(epsilonAfter(worst), 10);
    expect(epsilons[0]).toBeCloseTo(2.7139, 4);
    expect(epsilonAfter(worst, zOf.ckks / 2)).toBeLessThan(3.8); // the nominal check would have let round 2 run
    const refused = epsilonAfter(worst, worst);
    expect(refused).toBeGreaterThan(3.8);
    expect(result.stoppedEarly).toContain(
      `privacy budget: round 2 would bring epsilon to ${refused.toFixed(4)} in its worst case (2 of the 3 selected clients' noise shares arriving, 1 of them known to a colluder: noise multiplier ${present.toPrecision(4)}), past the target 3.8 (delta 0.00001; noise multiplier ${present.toPrecision(4)} charged as ${worst.toPrecision(4)}: replace-one adjacency, sensitivity 2C)`,
    );
  });

  it('plain (central noise, whole whatever arrives): the same dropouts cost nothing extra, so round 2 runs', async () => {
    const result = await run('plain');
    expect(result.history).toHaveLength(2);
    expect(result.history.map((r) => r.privacy!.noiseMultiplier)).toEqual([z, z]);
    expect(result.history.map((r) => r.privacy!.chargedMultiplier)).toEqual([charged, charged]);
    expect(result.history[1]!.privacy!.epsilon).toBeCloseTo(epsilonAfter(charged, charged), 10);
    expect(result.history[1]!.privacy!.epsilon).toBeCloseTo(3.189, 3);
    expect(result.stoppedEarly).toMatch(
      new RegExp(`^privacy budget: round 3 would bring epsilon to ${epsilonAfter(charged, charged, charged).toFixed(4).replace('.', '\\.')}, past the target 3\\.8 \\(delta 0\\.00001; noise multiplier 4\\.000 charged as 2\\.000: replace-one adjacency`),
    );
  });
});
