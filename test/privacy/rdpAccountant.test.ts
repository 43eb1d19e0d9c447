import { describe, expect, it } from 'vitest';
import { initialRdpState, parseRdpState, RdpAccountant, rdpEpsilon, rdpStep, type PrivacyBudget } from '../../src/privacy/rdpAccountant.js';
import { epsilonFromRdp } from '../../src/privacy/rdpConversion.js';
import { DEFAULT_RDP_ORDERS, OPACUS_RDP_ORDERS } from '../../src/privacy/rdpOrders.js';
import { rdpSampledGaussianSteps } from '../../src/privacy/rdpSampledGaussian.js';

describe('RdpAccountant', () => {
  it('starts at epsilon 0 on the default orders (Opacus DEFAULT_ALPHAS + 128, 256, 512)', () => {
    const a = new RdpAccountant();
    expect(a.state.orders).toEqual(DEFAULT_RDP_ORDERS);
    expect(DEFAULT_RDP_ORDERS).toHaveLength(154);
    expect(DEFAULT_RDP_ORDERS.slice(0, 3)).toEqual([1.1, 1.2, 1.3]);
    expect(DEFAULT_RDP_ORDERS.slice(-5)).toEqual([62, 63, 128, 256, 512]);
    expect(a.epsilon(1e-5).epsilon).toBe(0);
    expect(a.steps).toBe(0);
  });

  it('reproduces Opacus test_rdp_accountant step by step (7.32911117143), without changing earlier values', () => {
    // opacus/tests/accountants_test.py: 2250 calls of step(noise_multiplier=1.5, sample_rate=0.04), epsilon at 1e-5.
    const start = RdpAccountant.withOrders(OPACUS_RDP_ORDERS);
    // 2000 steps at once, then 250 one by one (each one-by-one step costs a full RDP evaluation at first).
    let a = start.step(0.04, 1.5, 2000);
    for (let i = 0; i < 250; i++) a = a.step(0.04, 1.5);
    expect(Math.abs(a.epsilon(1e-5).epsilon - 7.32911117143) / 7.32911117143).toBeLessThan(1e-9);
    expect(a.steps).toBe(2250);
    expect(a.state.ledger).toEqual([{ q: 0.04, sigma: 1.5, steps: 2250 }]);
    expect(start.epsilon(1e-5).epsilon).toBe(0);
    expect(start.state.ledger).toEqual([]);
    expect(Object.isFrozen(a.state) && Object.isFrozen(a.state.rdp) && Object.isFrozen(a.state.ledger)).toBe(true);
  });

  it('composes by adding RDP: steps in one call equal the same steps one by one, and mixed settings add up', () => {
    const orders = [1.5, 2, 3.5, 8, 32];
    let oneByOne = RdpAccountant.withOrders(orders);
    for (let i = 0; i < 30; i++) oneByOne = oneByOne.step(0.01, 1.1);
    const atOnce = RdpAccountant.withOrders(orders).step(0.01, 1.1, 30);
    atOnce.state.rdp.forEach((r, k) => expect(Math.abs(r - oneByOne.state.rdp[k]!) / r).toBeLessThan(1e-12));
    const mixed = atOnce.step(0.02, 0.8, 5).step(0.01, 1.1, 2);
    const first = rdpSampledGaussianSteps(0.01, 1.1, 32, orders);
    const second = rdpSampledGaussianSteps(0.02, 0.8, 5, orders);
    const expected = first.map((x, k) => x + second[k]!);
    mixed.state.rdp.forEach((r, k) => expect(Math.abs(r - expected[k]!) / r).toBeLessThan(1e-12));
    expect(mixed.state.ledger).toEqual([
      { q: 0.01, sigma: 1.1, steps: 30 },
      { q: 0.02, sigma: 0.8, steps: 5 },
      { q: 0.01, sigma: 1.1, steps: 2 },
    ]);
    const want = epsilonFromRdp(orders, expected, 1e-5, 'classic');
    expect(mixed.epsilon(1e-5, 'classic').order).toBe(want.order);
    expect(Math.abs(mixed.epsilon(1e-5, 'classic').epsilon - want.epsilon) / want.epsilon).toBeLessThan(1e-12);
  });

  it('round-trips through JSON (a checkpoint) and refuses damaged states', () => {
    const a = new RdpAccountant().step(0.05, 1.2, 40);
    const restored = RdpAccountant.fromState(JSON.parse(JSON.stringify(a.state)));
    expect(restored.state).toEqual(a.state);
    expect(restored.epsilon(1e-6)).toEqual(a.epsilon(1e-6));
    const json = JSON.parse(JSON.stringify(a.state)) as { orders: number[]; rdp: (number | null)[]; ledger: unknown[] };
    expect(() => parseRdpState(null)).toThrow(/must be an object/);
    expect(() => parseRdpState({ ...json, rdp: json.rdp.slice(1) })).toThrow(/one per order/);
    expect(() => parseRdpState({ ...json, rdp: [null, ...json.rdp.slice(1)] })).toThrow(/array of numbers/);
    expect(() => parseRdpState({ ...json, orders: [1, ...json.orders.slice(1)] })).toThrow(/order must be > 1/);
    expect(() => parseRdpState({ ...json, rdp: [-1, ...json.rdp.slice(1)] })).toThrow(/must be >= 0/);
    expect(() => parseRdpState({ ...json, ledger: [{ q: 2, sigma: 1, steps: 1 }] })).toThrow(/q must be in/);
    expect(() => parseRdpState({ ...json, ledger: [] })).toThrow(/empty ledger/);
  });

  it('wouldExceed stops a run before the round that would pass the budget', () => {
    const budget: PrivacyBudget = { epsilon: 2, delta: 1e-5 };
    const [q, sigma] = [0.1, 1.5];
    let a = new RdpAccountant();
    let rounds = 0;
    for (;;) {
      const check = a.wouldExceed(budget, q, sigma);
      if (check.exceeds) {
        expect(check.epsilon).toBeGreaterThan(budget.epsilon);
        expect(check.epsilon).toBe(a.step(q, sigma).epsilon(budget.delta).epsilon);
        break;
      }
      a = a.step(q, sigma);
      rounds++;
      expect(a.epsilon(budget.delta).epsilon).toBeLessThanOrEqual(budget.epsilon);
    }
    // q 0.1, sigma 1.5, delta 1e-5: epsilon 1.9988 after 21 rounds, above 2 after 22.
    expect(rounds).toBe(21);
    expect(a.steps).toBe(rounds);
    // the classic conversion is looser, so the same budget allows fewer rounds
    const classic = { ...budget, conversion: 'classic' as const };
    expect(a.wouldExceed(classic, q, sigma).exceeds).toBe(true);
    expect(a.epsilon(1e-5, 'classic').epsilon).toBeGreaterThan(budget.epsilon);
  });

  it('validates steps and budgets', () => {
    const a = new RdpAccountant();
    expect(() => a.step(0.1, 0)).toThrow(/sigma must be > 0/);
    expect(() => a.step(-0.1, 1)).toThrow(/q must be in \[0, 1\]/);
    expect(() => a.step(0.1, 1, 0)).toThrow(/steps must be a whole number >= 1/);
    expect(() => a.wouldExceed({ epsilon: 0, delta: 1e-5 }, 0.1, 1)).toThrow(/epsilon must be > 0/);
    expect(() => a.wouldExceed({ epsilon: 1, delta: 0 }, 0.1, 1)).toThrow(/delta must be in \(0, 1\)/);
    expect(() => initialRdpState([])).toThrow(/at least one/);
    expect(() => initialRdpState([0.5])).toThrow(/order must be > 1/);
  });

  it('has pure functions under the class: rdpStep leaves its input alone', () => {
    const s0 = initialRdpState([2, 4]);
    const s1 = rdpStep(s0, 0.5, 2, 3);
    expect(s0.rdp).toEqual([0, 0]);
    expect(rdpEpsilon(s1, 1e-5).epsilon).toBeGreaterThan(0);
  });
});
