import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epsilonFromRdp, type RdpConversion } from '../../src/privacy/rdpConversion.js';
import { noiseMultiplierForEpsilon } from '../../src/privacy/rdpNoiseMultiplier.js';
import { DEFAULT_RDP_ORDERS, DP_SGD_PRIVACY_ORDERS, OPACUS_RDP_ORDERS } from '../../src/privacy/rdpOrders.js';
import { rdpSampledGaussian, rdpSampledGaussianSteps } from '../../src/privacy/rdpSampledGaussian.js';

const relErr = (got: number, expected: number) => Math.abs(got - expected) / Math.abs(expected);
const expectRel = (got: number, expected: number, tol: number, what: string) =>
  expect(relErr(got, expected), `${what}: got ${got}, published ${expected}`).toBeLessThanOrEqual(tol);

const epsilon = (q: number, sigma: number, steps: number, delta: number, conversion: RdpConversion = 'improved', orders: readonly number[] = DEFAULT_RDP_ORDERS) =>
  epsilonFromRdp(orders, rdpSampledGaussianSteps(q, sigma, steps, orders), delta, conversion);

/** TF Privacy's compute_dp_sgd_privacy(n, batch_size, noise_multiplier, epochs, delta): q = batch/n, steps = ceil(epochs n / batch). */
const dpSgd = (n: number, batch: number, sigma: number, epochs: number, delta: number, conversion: RdpConversion) =>
  epsilon(batch / n, sigma, Math.ceil((epochs * n) / batch), delta, conversion, DP_SGD_PRIVACY_ORDERS);

describe('RDP of the sampled Gaussian mechanism against published values', () => {
  it('TF Privacy compute_rdp sequence: q 0.01, sigma 2.5, 50 steps', () => {
    // tensorflow_privacy/privacy/analysis/rdp_accountant_test.py, test_compute_rdp_sequence:
    //   compute_rdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100, inf]) ~= [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307, inf] (delta 1e-5)
    // and rdp_privacy_accountant_test.py, test_compute_rdp_poisson_sampled_gaussian (rtol 1e-4):
    //   [6.5007e-04, 1.0854e-03, 2.1808e-03, 2.3846e-02, 1.6742e+02, inf]; the most precise of each pair is used.
    const rdp = rdpSampledGaussianSteps(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]);
    const published = [6.5007e-4, 1.0854e-3, 0.00218075, 0.023846, 167.416307];
    published.forEach((v, k) => expectRel(rdp[k]!, v, 1e-4, `order ${[1.5, 2.5, 5, 50, 100][k]}`));
    expect(rdpSampledGaussian(0.01, 2.5, Infinity)).toBe(Infinity);
  });

  it('TF Privacy compute_rdp scalar: q 0.1, sigma 2, 10 steps, order 5 -> 0.07737', () => {
    // rdp_accountant_test.py, test_compute_rdp_scalar: assertAlmostEqual(compute_rdp(0.1, 2, 10, 5), 0.07737, places=5)
    expectRel(10 * rdpSampledGaussian(0.1, 2, 5), 0.07737, 1e-4, 'rdp');
  });

  it('TF Privacy compute_dp_sgd_privacy, improved conversion (dp_accounting era)', () => {
    // compute_dp_sgd_privacy_test.py (commit 943ef91), test_compute_dp_sgd_privacy, (n, batch, sigma, epochs, delta, eps, order):
    //   ('Test0', 60000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 19.0)
    //   ('Test1', 100000, 100, 1.0, 30, 1e-7, 1.4154988495444845, 13.0)
    //   ('Test2', 100000000, 1024, 0.1, 10, 1e-7, 5907982.31138195, 1.25)
    const cases: [number, number, number, number, number, number, number][] = [
      [60000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 19],
      [100000, 100, 1.0, 30, 1e-7, 1.4154988495444845, 13],
      [100000000, 1024, 0.1, 10, 1e-7, 5907982.31138195, 1.25],
    ];
    for (const [n, batch, sigma, epochs, delta, eps, order] of cases) {
      const got = dpSgd(n, batch, sigma, epochs, delta, 'improved');
      expectRel(got.epsilon, eps, 1e-9, `n ${n} batch ${batch} sigma ${sigma}`);
      expect(got.order).toBe(order);
    }
  });

  it('TF Privacy compute_dp_sgd_privacy, classic conversion (before the improvement)', () => {
    // The same test in its earlier version (rdp_accountant.get_privacy_spent with eps = rdp - log(delta)/(alpha-1)):
    //   ('Test0', 60000, 150, 1.3, 15, 1e-5, 0.941870567, 19.0)
    //   ('Test1', 100000, 100, 1.0, 30, 1e-7, 1.70928734, 13.0)
    //   ('Test2', 100000000, 1024, 0.1, 10, 1e-7, 5907984.81339406, 1.25)
    const cases: [number, number, number, number, number, number, number][] = [
      [60000, 150, 1.3, 15, 1e-5, 0.941870567, 19],
      [100000, 100, 1.0, 30, 1e-7, 1.70928734, 13],
      [100000000, 1024, 0.1, 10, 1e-7, 5907984.81339406, 1.25],
    ];
    for (const [n, batch, sigma, epochs, delta, eps, order] of cases) {
      const got = dpSgd(n, batch, sigma, epochs, delta, 'classic');
      expectRel(got.epsilon, eps, 1e-8, `n ${n} batch ${batch} sigma ${sigma}`);
      expect(got.order).toBe(order);
    }
  });

  it("Opacus RDPAccountant: sigma 1.5, q 0.04, 2250 steps, delta 1e-5 -> 7.32911117143", () => {
    // opacus/tests/accountants_test.py, test_rdp_accountant: steps = int(90 / 0.04), DEFAULT_ALPHAS,
    //   assertAlmostEqual(accountant.get_epsilon(delta=1e-5), 7.32911117143)
    const got = epsilon(0.04, 1.5, Math.trunc(90 / 0.04), 1e-5, 'improved', OPACUS_RDP_ORDERS);
    expectRel(got.epsilon, 7.32911117143, 1e-9, 'epsilon');
  });

  it('TF Privacy composition of two mechanisms: classic 8.509656 at order 2.5, improved below it', () => {
    // rdp_accountant_test.py, test_check_composition: q 1e-4, sigma 0.4, 40000 steps then q 0.1, sigma 2, 100 steps,
    // delta 1e-5, orders (1.25, ..., 256); "These tests use the old RDP -> approx DP conversion:
    // assertAlmostEqual(eps, 8.509656, places=5); assertEqual(opt_order, 2.5)", and the improved one is <= 8.509656.
    const orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256];
    const a = rdpSampledGaussianSteps(1e-4, 0.4, 40000, orders);
    const b = rdpSampledGaussianSteps(0.1, 2, 100, orders);
    const rdp = a.map((v, k) => v + b[k]!);
    const classic = epsilonFromRdp(orders, rdp, 1e-5, 'classic');
    expectRel(classic.epsilon, 8.509656, 1e-6, 'classic epsilon');
    expect(classic.order).toBe(2.5);
    expect(epsilonFromRdp(orders, rdp, 1e-5, 'improved').epsilon).toBeLessThanOrEqual(8.509656);
  });

  it('TF Privacy conversion checks: pure-DP constant RDP, and the (1, 1e-6) Gaussian', () => {
    // rdp_privacy_accountant_test.py, test_compute_epsilon_delta_pure_dp: orders 2..32, rdp 1.1 -> 1.32783806176
    const pure = Array.from({ length: 31 }, (_, i) => i + 2);
    const p = epsilonFromRdp(pure, pure.map(() => 1.1), 1e-5);
    expectRel(p.epsilon, 1.32783806176, 1e-10, 'pure');
    expect(p.order).toBe(32);
    // test_compute_epsilon_delta_gaussian: orders 0.001 i for i in [1000, 100000) (order 1 itself skipped here:
    // it is not a valid order and never optimal), q 1, sigma 4.530877117 "chosen to obtain exactly (1, 1e-6)-DP".
    const fine = Array.from({ length: 98999 }, (_, i) => 0.001 * (i + 1001));
    const g = epsilonFromRdp(fine, rdpSampledGaussianSteps(1, 4.530877117, 1, fine), 1e-6);
    expectRel(g.epsilon, 1, 1e-7, 'gaussian');
  });

  it("TF Privacy's MNIST tutorial: sigma 1.12, batch 256, delta 1e-5 -> 1.00 (1 epoch), 1.04 (2), 2.92 (60), classic", () => {
    // tutorials/README.md, "Expected Output" and "Select Parameters" (epsilon printed with 2 decimals), with
    // mnist_dpsgd_tutorial.py's compute_epsilon: orders [1 + x / 10. for x in range(1, 100)] + range(12, 64),
    // q = 256 / 60000, steps = epoch * (60000 // 256), rdp_accountant.get_privacy_spent (classic conversion).
    // Only 3 digits are published, so the check is rounding: |ours - published| <= 0.005.
    const tutorial = (sigma: number, epochs: number) => epsilon(256 / 60000, sigma, epochs * Math.floor(60000 / 256), 1e-5, 'classic', OPACUS_RDP_ORDERS).epsilon;
    expect(Math.abs(tutorial(1.12, 1) - 1.0)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(tutorial(1.12, 2) - 1.04)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(tutorial(1.12, 60) - 2.92)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(tutorial(1.2, 10) - 1.2)).toBeLessThanOrEqual(0.005);
  });
});

describe('log(A_alpha) at extreme settings', () => {
  // The (q, sigma, order) settings of TF Privacy's test_compute_log_a_equals_mp (rtol 1e-4 against mpmath). Reference
  // log(A) computed here with mpmath 1.3: exact binomial sums for integer orders (50 digits), mpmath.quad of
  // E_mu0[(1 + q (mu1/mu0 - 1))^alpha - 1] split at the crossing point for fractional ones.
  const cases: [number, number, number, number][] = [
    [1e-7, 0.1, 1.01, 4.0034123225263986e-8],
    [1e-6, 0.1, 256, 3260463.2292971608],
    [1e-5, 0.1, 256.1, 3263607.0397884208],
    [1e-6, 1, 27, 8.7695113048484979e-10],
    [1e-4, 1, 1.5, 6.4426869538366497e-9],
    [1e-3, 1, 2, 1.7182803522145154e-6],
    [0.01, 10, 20, 0.00019129699912842963],
    [0.1, 100, 20.5, 0.00019991818458068296],
    [0.99, 0.1, 256, 3263997.4271140211],
    [0.999, 100, 256.1, 3.2601080379731127],
  ];
  it.each(cases)('q %s, sigma %s, order %s', (q, sigma, order, logA) => {
    expectRel(rdpSampledGaussian(q, sigma, order) * (order - 1), logA, 1e-4, 'log A');
  });
});

describe('inverse: the noise multiplier for a target epsilon', () => {
  it('TF Privacy compute_noise: recovers sigma 1.3, 1.0 and 0.1 from their (classic) epsilons', () => {
    // compute_noise_from_budget_test.py, (n, batch, target_epsilon, epochs, delta, expected_noise), assertAlmostEqual:
    //   ('Test0', 60000, 150, 0.941870567, 15, 1e-5, 1.3), ('Test1', 100000, 100, 1.70928734, 30, 1e-7, 1.0),
    //   ('Test2', 100000000, 1024, 5907984.81339406, 10, 1e-7, 0.1); with the classic conversion of their era.
    const cases: [number, number, number, number, number, number][] = [
      [60000, 150, 0.941870567, 15, 1e-5, 1.3],
      [100000, 100, 1.70928734, 30, 1e-7, 1.0],
      [100000000, 1024, 5907984.81339406, 10, 1e-7, 0.1],
    ];
    for (const [n, batch, eps, epochs, delta, sigma] of cases) {
      const got = noiseMultiplierForEpsilon({ epsilon: eps, q: batch / n, steps: Math.ceil((epochs * n) / batch), delta, conversion: 'classic', orders: DP_SGD_PRIVACY_ORDERS });
      expectRel(got.sigma, sigma, 1e-7, `sigma for epsilon ${eps}`);
      expect(got.epsilon).toBeLessThanOrEqual(eps);
    }
  });

  it('Opacus get_noise_multiplier: 1.416 (2250 steps) and 1.3562 (2000 steps) for epsilon 8, q 0.04, delta 1e-5', () => {
    // opacus/tests/accountants_test.py, test_get_noise_multiplier_rdp_epochs (epochs 90 -> steps int(90/0.04)) and
    // test_get_noise_multiplier_rdp_steps, assertAlmostEqual(..., places=4). Opacus stops its bisection once epsilon is
    // within 0.01 below the target and returns the upper end, so its answer is a little above the exact threshold.
    for (const [steps, published] of [[2250, 1.416], [2000, 1.3562]] as const) {
      const got = noiseMultiplierForEpsilon({ epsilon: 8, q: 0.04, steps, delta: 1e-5, orders: OPACUS_RDP_ORDERS });
      expect(got.sigma).toBeLessThanOrEqual(published + 5e-5);
      expectRel(got.sigma, published, 1e-3, `sigma for ${steps} steps`);
      expect(epsilon(0.04, published, steps, 1e-5, 'improved', OPACUS_RDP_ORDERS).epsilon).toBeLessThanOrEqual(8);
    }
  });

  it('says clearly when the target is unreachable, and validates its inputs', () => {
    // The classic conversion never goes below min over orders of -log(delta)/(alpha - 1) = 11.51/511 here.
    expect(() => noiseMultiplierForEpsilon({ epsilon: 0.01, q: 1, steps: 10, delta: 1e-5, conversion: 'classic' })).toThrow(/unreachable.*even sigma = \d+ gives epsilon 0\.022/);
    expect(() => noiseMultiplierForEpsilon({ epsilon: 0, q: 0.1, steps: 10, delta: 1e-5 })).toThrow(/target epsilon must be > 0/);
    expect(() => noiseMultiplierForEpsilon({ epsilon: 1, q: 0, steps: 10, delta: 1e-5 })).toThrow(/q must be in \(0, 1\]/);
    expect(() => noiseMultiplierForEpsilon({ epsilon: 1, q: 0.1, steps: 1.5, delta: 1e-5 })).toThrow(/steps must be a whole number/);
    expect(() => noiseMultiplierForEpsilon({ epsilon: 1, q: 0.1, steps: 10, delta: 1 })).toThrow(/delta must be in \(0, 1\)/);
  });
});

describe('properties', () => {
  // A small grid with fractional and integer orders keeps each evaluation fast.
  const ORDERS = [1.5, 1.75, 2, 2.5, 3, 4, 5.5, 8, 12, 16, 24, 32, 48, 64, 128];
  const sigmaArb = fc.double({ min: 0.3, max: 20, noNaN: true });
  const qArb = fc.double({ min: 1e-4, max: 1, noNaN: true });
  const stepsArb = fc.integer({ min: 1, max: 5000 });
  const conversionArb = fc.constantFrom<RdpConversion>('improved', 'classic');
  const eps = (q: number, sigma: number, steps: number, c: RdpConversion) => epsilon(q, sigma, steps, 1e-5, c, ORDERS).epsilon;
  const SLACK = 1 + 1e-12; // rounding between nearly equal values

  it('q = 0 gives 0; q = 1 at integer orders gives alpha / (2 sigma^2) exactly', () => {
    fc.assert(
      fc.property(sigmaArb, fc.integer({ min: 2, max: 512 }), (sigma, order) => {
        expect(rdpSampledGaussian(0, sigma, order)).toBe(0);
        expect(rdpSampledGaussian(1, sigma, order)).toBe(order / (2 * sigma * sigma));
      }),
    );
  });

  it('the binomial sum at q just below 1 approaches the plain Gaussian', () => {
    for (const order of [2, 5, 32]) expectRel(rdpSampledGaussian(1 - 1e-12, 1.3, order), order / (2 * 1.3 * 1.3), 1e-9, `order ${order}`);
  });

  it('epsilon decreases as sigma grows, and grows with steps and with q', () => {
    fc.assert(
      fc.property(qArb, sigmaArb, sigmaArb, stepsArb, conversionArb, (q, s1, s2, steps, c) => {
        const [lo, hi] = s1 < s2 ? [s1, s2] : [s2, s1];
        expect(eps(q, hi, steps, c)).toBeLessThanOrEqual(eps(q, lo, steps, c) * SLACK);
      }),
      { numRuns: 25 },
    );
    fc.assert(
      fc.property(qArb, sigmaArb, stepsArb, stepsArb, conversionArb, (q, sigma, n1, n2, c) => {
        const [lo, hi] = n1 < n2 ? [n1, n2] : [n2, n1];
        expect(eps(q, sigma, hi, c) * SLACK).toBeGreaterThanOrEqual(eps(q, sigma, lo, c));
      }),
      { numRuns: 25 },
    );
    fc.assert(
      fc.property(qArb, qArb, sigmaArb, stepsArb, conversionArb, (q1, q2, sigma, steps, c) => {
        const [lo, hi] = q1 < q2 ? [q1, q2] : [q2, q1];
        expect(eps(hi, sigma, steps, c) * SLACK).toBeGreaterThanOrEqual(eps(lo, sigma, steps, c));
      }),
      { numRuns: 25 },
    );
  });

  it('the improved conversion is never worse than the classic one and never negative', () => {
    fc.assert(
      fc.property(qArb, sigmaArb, stepsArb, (q, sigma, steps) => {
        const improved = eps(q, sigma, steps, 'improved');
        expect(improved).toBeGreaterThanOrEqual(0);
        expect(improved).toBeLessThanOrEqual(eps(q, sigma, steps, 'classic'));
      }),
      { numRuns: 25 },
    );
  });

  it('sigma() inverts epsilon(): epsilon(sigma(e)) <= e, and within 1e-6 of it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.3, max: 10, noNaN: true }),
        fc.double({ min: 1e-3, max: 0.1, noNaN: true }),
        fc.integer({ min: 10, max: 3000 }),
        conversionArb,
        (target, q, steps, c) => {
          const found = noiseMultiplierForEpsilon({ epsilon: target, q, steps, delta: 1e-5, conversion: c, orders: ORDERS });
          const at = eps(q, found.sigma, steps, c);
          expect(at).toBe(found.epsilon);
          expect(at).toBeLessThanOrEqual(target);
          expect(relErr(at, target)).toBeLessThan(1e-6);
          // the smallest such sigma: a little less noise overshoots
          expect(eps(q, found.sigma * (1 - 1e-6), steps, c)).toBeGreaterThan(target);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('rejects invalid arguments with clear messages', () => {
    expect(() => rdpSampledGaussian(1.5, 1, 2)).toThrow(/q must be in \[0, 1\]/);
    expect(() => rdpSampledGaussian(0.1, -1, 2)).toThrow(/sigma must be >= 0/);
    expect(() => rdpSampledGaussian(0.1, 1, 1)).toThrow(/order must be > 1/);
    expect(rdpSampledGaussian(0.1, 0, 2)).toBe(Infinity);
    expect(() => epsilonFromRdp([2, 3], [0.1], 1e-5)).toThrow(/one RDP value per order/);
    expect(() => epsilonFromRdp([2], [0.1], 0)).toThrow(/delta must be in \(0, 1\)/);
    expect(() => epsilonFromRdp([2], [-0.1], 1e-5)).toThrow(/RDP must be >= 0/);
    expect(() => epsilonFromRdp([2], [0.1], 1e-5, 'tight' as RdpConversion)).toThrow(/unknown RDP conversion/);
  });
});
