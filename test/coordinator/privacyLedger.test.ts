import { describe, expect, it } from 'vitest';
import { PrivacyLedger } from '../../src/coordinator/privacyLedger.js';
import { runPrivacyEpsilon } from '../../src/cli/privacyCommand.js';
import { RdpAccountant } from '../../src/privacy/rdpAccountant.js';

const after = (rounds: number, multiplier: number) => {
  let a = new RdpAccountant();
  for (let t = 0; t < rounds; t++) a = a.step(1, multiplier);
  return a.epsilon(1e-5).epsilon;
};

describe('the client-level privacy ledger: replace-one adjacency (sensitivity 2C) in every mode', () => {
  it("charges the issue's example, z 1.1, 10 rounds, fractionFit 1, delta 1e-5, at about 42.6 (16.9 at z), as `cohort privacy` predicts", () => {
    for (const noise of ['central', 'distributed'] as const) {
      const ledger = new PrivacyLedger({ noiseMultiplier: 1.1, delta: 1e-5, noise });
      let last: ReturnType<PrivacyLedger['charge']> | undefined;
      for (let t = 0; t < 10; t++) last = ledger.charge(1, {});
      expect(last).toMatchObject({ adjacency: 'replace-one', noiseMultiplier: 1.1, chargedMultiplier: 0.55, sampleRate: 1 });
      expect(last!.epsilon).toBeCloseTo(after(10, 0.55), 10);
      expect(last!.epsilon).toBeCloseTo(42.6, 1);
      expect(after(10, 1.1)).toBeCloseTo(16.9, 1);
      expect(runPrivacyEpsilon({ q: 1, sigma: 1.1, steps: 10, delta: 1e-5 }, () => {})).toBeCloseTo(last!.epsilon, 10);
    }
  });

  it('makes the budget check (worst case included) with the halved multiplier', () => {
    // Target between 1 round at z / 2 and 2 rounds at z / 2, below 2 rounds at z: the check must stop round 2.
    const z = 2;
    const target = (after(1, z / 2) + after(2, z / 2)) / 2;
    expect(after(2, z)).toBeLessThan(target);
    const central = new PrivacyLedger({ noiseMultiplier: z, delta: 1e-5, targetEpsilon: target, noise: 'central' });
    expect(central.refuse(1, 1)).toBeUndefined();
    central.charge(1, {});
    const refusal = central.refuse(2, 1);
    expect(refusal?.epsilon).toBeCloseTo(after(2, z / 2), 10);
    expect(refusal?.message).toMatch(/noise multiplier 2\.000 charged as 1\.000: replace-one adjacency, sensitivity 2C\); stopped after round 1$/);
    // Distributed noise, 2 of 4 shares at worst: (z / 2) sqrt(1/2) is what round 1 is checked at (no colluder).
    const worst = (z / 2) * Math.sqrt(1 / 2);
    const distributed = new PrivacyLedger({ noiseMultiplier: z, delta: 1e-5, targetEpsilon: (after(1, worst) + after(1, z / 2)) / 2, noise: 'distributed', colluders: 0 });
    expect(distributed.refuse(1, 1, { selected: 4, minimum: 4 })).toBeUndefined();
    expect(distributed.refuse(1, 1, { selected: 4, minimum: 2 })?.epsilon).toBeCloseTo(after(1, worst), 10);
  });

  it('discounts the noise shares tolerated colluders know (default one: each client knows its own)', () => {
    const z = 2;
    const ledger = new PrivacyLedger({ noiseMultiplier: z, delta: 1e-5, noise: 'distributed' });
    // 3 of 4 shares present, 1 known to a curious client: z sqrt(2/4) is the noise against it, charged at half.
    const record = ledger.charge(1, {}, { present: 3, selected: 4 });
    expect(record.noiseMultiplier).toBeCloseTo(z * Math.sqrt(2 / 4), 12);
    expect(record.epsilon).toBeCloseTo(after(1, (z / 2) * Math.sqrt(2 / 4)), 10);
    expect(ledger.worstCaseMultiplier({ selected: 4, minimum: 4 })).toBeCloseTo(z * Math.sqrt(3 / 4), 12);
    const two = new PrivacyLedger({ noiseMultiplier: z, delta: 1e-5, noise: 'distributed', colluders: 2 });
    expect(two.worstCaseMultiplier({ selected: 4, minimum: 3 })).toBeCloseTo(z * Math.sqrt(1 / 4), 12);
    // Central noise is the coordinator's: no client knows any of it.
    const central = new PrivacyLedger({ noiseMultiplier: z, delta: 1e-5, noise: 'central' });
    expect(central.charge(1, {}, { present: 3, selected: 4 }).noiseMultiplier).toBe(z);
  });
});
