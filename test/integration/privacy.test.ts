import { silent } from '../helpers/silentLogger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DpMean } from '../../src/coordinator/aggregation/dpMean.js';
import { StreamingMean } from '../../src/coordinator/aggregation/streamingMean.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { FedMedian } from '../../src/coordinator/strategies/fedMedian.js';
import { RdpAccountant } from '../../src/privacy/rdpAccountant.js';
import { sampleCohort } from '../../src/coordinator/strategies/sampling.js';
import { createSeededRng, mixSeed } from '../../src/protocol/seededRng.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';

const zeros = linearZeros;

let fed: TestFederation;
afterEach(async () => fed.close());

describe('client-level DP-FedAvg in a federation', () => {
  it('reports epsilon every round, as the accountant computes it at z / 2 (replace-one), and stops before the budget is exceeded', async () => {
    fed = new TestFederation();
    // Replace-one adjacency (the mean divides by the released contributor count): the clipped sum's sensitivity
    // is 2C, so noise z C is charged as the Gaussian mechanism at z / 2 = 1.2.
    const privacy = { noiseMultiplier: 2.4, delta: 1e-5, targetEpsilon: 12 };
    const charged = privacy.noiseMultiplier / 2;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({
        minFitClients: 2,
        minAvailableClients: 4,
        fractionFit: 0.5,
        fit: { epochs: 3, batchSize: 8, learningRate: 0.2, extra: { clipNorm: 0.5 } },
        aggregator: () => new DpMean(new StreamingMean(), { clipNorm: 0.5, noiseMultiplier: privacy.noiseMultiplier }),
      }),
      initialWeights: zeros(),
      rounds: 50,
      privacy,
      seed: 7,
      logger: silent,
    });
    for (let i = 0; i < 4; i++) {
      const d = linearData(20, i + 1);
      fed.client(coordinator.url, `h${i}`, new LinearTrainer(d.xs, d.ys, `h${i}`), { logger: silent });
    }
    const result = await coordinator.run();
    const spent = result.history.map((r) => r.privacy!.epsilon);
    expect(result.history.length).toBeGreaterThan(1);
    expect(result.history.length).toBeLessThan(50);
    expect(result.stoppedEarly).toMatch(new RegExp(`^privacy budget: round ${result.history.length + 1} would bring epsilon to \\d+\\.\\d+, past the target 12`));
    // Epsilon grows every round and never passes the target. The cohort (2 of 4) is drawn from the public seed, so
    // anyone can recompute it: no amplification by sampling, each round charged at q = 1 (the epsilon of a client
    // selected every round, a bound for all). Charging q = 2/4 would have let the run go on for about 4x the rounds.
    spent.forEach((e, i) => i > 0 && expect(e).toBeGreaterThan(spent[i - 1]!));
    // The attack that rules out q = 2/4: from the config alone (seed, client names, fraction, minimum), an outsider
    // recomputes who sat in every round, exactly.
    const names = ['h0', 'h1', 'h2', 'h3'].map((name) => ({ name }));
    for (const r of result.history) {
      const recomputed = sampleCohort(names, 0.5, 2, createSeededRng(mixSeed(7, r.round, 1, 1))).map((c) => c.name);
      expect(r.fit.outcomes.map((o) => o.client).sort()).toEqual(recomputed.sort());
    }
    const otherSeed = result.history.map((r) => sampleCohort(names, 0.5, 2, createSeededRng(mixSeed(8, r.round, 1, 1))).map((c) => c.name).sort().join());
    expect(otherSeed).not.toEqual(result.history.map((r) => r.fit.outcomes.map((o) => o.client).sort().join())); // the seed is what tells
    expect(spent[spent.length - 1]).toBeLessThanOrEqual(12);
    let accountant = new RdpAccountant();
    let addRemove = new RdpAccountant();
    for (const r of result.history) {
      expect(r.privacy).toMatchObject({ sampleRate: 1, cohortFraction: 0.5, sampling: 'public-cohort', adjacency: 'replace-one', noiseMultiplier: 2.4, chargedMultiplier: charged });
      accountant = accountant.step(1, charged);
      addRemove = addRemove.step(1, privacy.noiseMultiplier);
      expect(r.privacy!.epsilon).toBeCloseTo(accountant.epsilon(1e-5).epsilon, 10);
      // Not the add/remove charge at z, which understated epsilon (the count of contributors is released).
      expect(r.privacy!.epsilon).toBeGreaterThan(1.5 * addRemove.epsilon(1e-5).epsilon);
    }
    expect(accountant.step(1, charged).epsilon(1e-5).epsilon).toBeGreaterThan(12);
    let amplified = new RdpAccountant();
    for (let r = 0; r < result.history.length + 1; r++) amplified = amplified.step(0.5, charged);
    expect(amplified.epsilon(1e-5).epsilon).toBeLessThan(12); // what the old q = 1/2 charge would have allowed
  });

  it('lets a client apply local DP: clipped, noised updates and its own epsilon', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit: { epochs: 3, batchSize: 8, learningRate: 0.2 } }), initialWeights: zeros(), rounds: 3, logger: silent });
    const epsilons: number[] = [];
    const d = linearData(30, 3);
    fed.client(coordinator.url, 'private', new LinearTrainer(d.xs, d.ys, 'private'), {
      logger: silent,
      localPrivacy: { clipNorm: 0.1, noiseMultiplier: 1e-4, delta: 1e-5 },
      onEvent: (e) => void (e.type === 'local-privacy' && epsilons.push(e.epsilon)),
    });
    const result = await coordinator.run();
    // Tiny noise makes the clipping visible: three rounds move the model by at most 3 x 0.1 (+ noise).
    const moved = Math.hypot(...result.weights.flatMap((t) => Array.from(t.data)));
    expect(moved).toBeLessThanOrEqual(0.3 + 1e-3);
    expect(moved).toBeGreaterThan(0.29); // each round's update was longer than 0.1 and was clipped to it
    expect(epsilons).toHaveLength(3);
    expect(epsilons[1]!).toBeGreaterThan(epsilons[0]!); // the node accounts each release
    expect(() => fed.client(coordinator.url, 'bad', new LinearTrainer(d.xs, d.ys), { localPrivacy: { clipNorm: 1, noiseMultiplier: 0, delta: 1e-5 } })).toThrow(
      /localPrivacy\.noiseMultiplier must be positive/,
    );
  });
});

describe('client-level DP from one option (privacy: { clipNorm, noiseMultiplier, delta })', () => {
  const fit = { epochs: 3, batchSize: 8, learningRate: 0.2 };
  const startClients = (url: string, seen: number[]) => {
    for (let i = 0; i < 3; i++) {
      const d = linearData(20, i + 1);
      const trainer = new LinearTrainer(d.xs, d.ys, `h${i}`);
      trainer.beforeFit = (config) => void seen.push(Number(config.extra?.clipNorm));
      fed.client(url, `h${i}`, trainer, { logger: silent });
    }
  };

  it('refuses privacy whose run would add no noise, naming the fix (the epsilon would be printed for a noiseless run)', async () => {
    fed = new TestFederation();
    const base = { initialWeights: zeros(), rounds: 2, logger: silent };
    await expect(fed.coordinator({ ...base, strategy: new FedAvg({ minFitClients: 2, fit }), privacy: { noiseMultiplier: 1.1, delta: 1e-5 } })).rejects.toThrow(
      /privacy \(noise multiplier 1\.1\) is set, but strategy fedavg's aggregator adds no noise, so the epsilon it would print is false: give privacy\.clipNorm/,
    );
    const other = () => new DpMean(new StreamingMean(), { clipNorm: 1, noiseMultiplier: 0.5 });
    await expect(fed.coordinator({ ...base, strategy: new FedAvg({ minFitClients: 2, fit, aggregator: other }), privacy: { noiseMultiplier: 1.1, delta: 1e-5 } })).rejects.toThrow(
      /privacy\.noiseMultiplier is 1\.1, but strategy fedavg's aggregator adds noise at 0\.5/,
    );
    await expect(
      fed.coordinator({ ...base, strategy: new FedAvg({ minFitClients: 2, fit, aggregator: other }), privacy: { clipNorm: 1, noiseMultiplier: 0.5, delta: 1e-5 } }),
    ).rejects.toThrow(/privacy\.clipNorm sets up the DP aggregator, but strategy fedavg already aggregates with one/);
    await expect(fed.coordinator({ ...base, strategy: new FedMedian({ minFitClients: 2, fit }), privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 } })).rejects.toThrow(
      /strategy fedmedian needs every individual update .* cannot be combined with privacy/,
    );
    await expect(fed.coordinator({ ...base, strategy: new FedAvg({ minFitClients: 2, fit }), privacy: { clipNorm: 1, noiseMultiplier: 0, delta: 1e-5 } })).rejects.toThrow(
      /privacy\.noiseMultiplier must be positive and finite \(without noise there is no privacy to account\), got 0/,
    );
  });

  it('sets up clipping (clients are sent C, the coordinator clips again), noise and the ledger from the one option', async () => {
    fed = new TestFederation();
    const privacy = { clipNorm: 0.05, noiseMultiplier: 100, delta: 1e-5 };
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 3, fit }), initialWeights: zeros(), rounds: 2, logger: silent, privacy });
    const seen: number[] = [];
    startClients(coordinator.url, seen);
    const result = await coordinator.run();
    expect(seen).toEqual([0.05, 0.05, 0.05, 0.05, 0.05, 0.05]); // every fit task carried C
    for (const r of result.history) {
      expect(r.privacy!.noiseMultiplier).toBe(100);
      expect(r.privacy).toMatchObject({ adjacency: 'replace-one', chargedMultiplier: 50 });
      expect(r.privacy!.clipped).toBeTypeOf('number'); // the DP aggregator ran and measured (clients clip first)
    }
    expect(result.history[1]!.privacy!.epsilon).toBeCloseTo(new RdpAccountant().step(1, 50).step(1, 50).epsilon(1e-5).epsilon, 10);
    // Clipping alone moves the model by at most 2 rounds x C = 0.1. The noise on the mean has std z C / n = 1.67
    // per coordinate, 3 coordinates, 2 rounds: a norm below 0.2 has probability about 1e-7 (chi with 6 degrees).
    const moved = Math.hypot(...result.weights.flatMap((t) => Array.from(t.data)));
    expect(moved).toBeGreaterThan(0.2);
  });
});

describe('federated standardization under client-level DP', () => {
  it('is refused at start, naming the fix, unless the experiment accepts the moments leaving in the clear', async () => {
    fed = new TestFederation();
    const options = {
      strategy: new FedAvg({ minFitClients: 2, fit: { epochs: 1, batchSize: 8, learningRate: 0.1 } }),
      initialWeights: zeros(),
      rounds: 1,
      logger: silent,
      privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 },
      standardizeFeatures: 2,
    };
    await expect(fed.coordinator(options)).rejects.toThrow(
      /federated standardization sends each client's exact feature means, mean squares and row count to the coordinator in the clear, outside the differential-privacy guarantee .*scale features from public ranges \(standardization: public with publicScaling; in code, applyPublicScaling at each client\), standardize locally or not at all \(standardization: local or none\), leaving standardizeFeatures unset, or accept the leak with acceptRisks: \['feature-moments'\]/,
    );
    const accepted = await fed.coordinator({ ...options, acceptRisks: ['feature-moments'] });
    expect(accepted.url).toMatch(/^http:/);
    const { standardizeFeatures: _dropped, ...local } = options;
    expect((await fed.coordinator(local)).url).toMatch(/^http:/);
  });
});
