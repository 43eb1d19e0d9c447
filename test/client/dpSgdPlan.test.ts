import { describe, expect, it } from 'vitest';
import { planDpSgd } from '../../src/client/dpSgdPlan.js';
import { RdpAccountant } from '../../src/privacy/rdpAccountant.js';

describe('planDpSgd', () => {
  it('finds the smallest noise for the whole run at q = batch / n, and makes epsilon the node\'s budget', () => {
    // FLamby's heart-disease DP-FedAvg at Cleveland: 199 records, batch 4, 15 rounds of 100 steps.
    const plan = planDpSgd({ clipNorm: 1.1, delta: 1e-3, epsilon: 1 }, { trainRows: 199, batchSize: 4, rounds: 15, stepsPerRound: 100 });
    expect(plan.sampleRate).toBe(4 / 199);
    expect(plan.steps).toBe(1500);
    const z = plan.options.noiseMultiplier;
    // Composed round by round, as the trainer does, the run lands at epsilon 1 from below, and 1% less noise overshoots.
    let accountant = new RdpAccountant();
    for (let r = 0; r < 15; r++) accountant = accountant.step(4 / 199, z, 100);
    const spent = accountant.epsilon(1e-3).epsilon;
    expect(spent).toBeLessThanOrEqual(plan.options.targetEpsilon!);
    expect(spent).toBeGreaterThan(0.999);
    expect(new RdpAccountant().step(4 / 199, z * 0.99, 1500).epsilon(1e-3).epsilon).toBeGreaterThan(1);
    expect(plan.options).toMatchObject({ clipNorm: 1.1, delta: 1e-3, conversion: 'improved' });
  });

  it('takes a given noise multiplier as it is, and needs exactly one of the two', () => {
    const plan = planDpSgd({ clipNorm: 1, delta: 1e-5, noiseMultiplier: 0.8 }, { trainRows: 10, batchSize: 32, rounds: 2, stepsPerRound: 3 });
    expect(plan).toEqual({ options: { clipNorm: 1, delta: 1e-5, conversion: 'improved', noiseMultiplier: 0.8 }, sampleRate: 1, steps: 6 });
    expect(() => planDpSgd({ clipNorm: 1, delta: 1e-5 }, { trainRows: 10, batchSize: 2, rounds: 1, stepsPerRound: 1 })).toThrow(/exactly one of noiseMultiplier and epsilon/);
    expect(() => planDpSgd({ clipNorm: 1, delta: 1e-5, noiseMultiplier: 1, epsilon: 1 }, { trainRows: 10, batchSize: 2, rounds: 1, stepsPerRound: 1 })).toThrow(/exactly one/);
  });
});
