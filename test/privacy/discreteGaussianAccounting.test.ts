import { describe, expect, it } from 'vitest';
import { rdpSampledGaussian } from '../../src/privacy/rdpSampledGaussian.js';

/**
 * The premises of the accounting in privacy/gaussianNoise.ts, checked numerically on the lattice at small sigmas
 * (in grid steps), where the discrete and continuous Gaussians differ most (the noise itself uses 2^28 steps):
 *  - the discrete Gaussian is sigma^2-subgaussian: log E[exp(lambda Y)] <= lambda^2 sigma^2 / 2;
 *  - for an integer shift the Rényi divergence is at most the continuous alpha Delta^2 / (2 sigma^2);
 *  - Poisson-sampled, integer orders: A_alpha = E_0[((1 - q) + q P_Delta / P_0)^alpha] is at most the continuous
 *    Gaussian's, which is what the accountant's RDP curve (Mironov, Talwar, Zhang 2019) is computed from.
 * A negative control shows the checks can fail: the discrete Laplace of the same variance is not subgaussian.
 */

const logSumExp = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

/** log P(Y = y) for y in [-limit, limit], Y ~ N_Z(mu, sigma^2) (integer mu). */
function logPmf(sigma: number, mu = 0, limit = Math.ceil(60 * sigma) + 60): Map<number, number> {
  const logW = new Map<number, number>();
  for (let y = -limit; y <= limit; y++) logW.set(y, -((y - mu) ** 2) / (2 * sigma * sigma));
  const logZ = logSumExp([...logW.values()]);
  for (const [y, w] of logW) logW.set(y, w - logZ);
  return logW;
}

const logMgf = (logP: Map<number, number>, lambda: number) => logSumExp([...logP].map(([y, lp]) => lp + lambda * y));

describe('the discrete Gaussian accounting premises (numerically, on the lattice)', () => {
  it('N_Z(0, sigma^2) is sigma^2-subgaussian; a discrete Laplace of the same variance is not (negative control)', () => {
    for (const sigma of [0.8, 1, 2, 5]) {
      const logP = logPmf(sigma);
      for (const lambda of [0.05, 0.3, 1, 2, 4]) expect(logMgf(logP, lambda)).toBeLessThanOrEqual((lambda * lambda * sigma * sigma) / 2 + 1e-12);
    }
    // Discrete Laplace P(y) proportional to r^|y|, variance 2r / (1 - r)^2 = 1 at r = 2 - sqrt(3).
    const r = 2 - Math.sqrt(3);
    const laplace = new Map<number, number>();
    for (let y = -200; y <= 200; y++) laplace.set(y, Math.abs(y) * Math.log(r));
    const logZ = logSumExp([...laplace.values()]);
    for (const [y, w] of laplace) laplace.set(y, w - logZ);
    expect(logMgf(laplace, 1)).toBeGreaterThan(0.5);
  });

  it('for an integer shift, D_alpha(N_Z(Delta, sigma^2) || N_Z(0, sigma^2)) <= alpha Delta^2 / (2 sigma^2)', () => {
    for (const sigma of [0.7, 1, 2]) {
      const p0 = logPmf(sigma);
      for (const delta of [1, 3]) {
        const p1 = logPmf(sigma, delta);
        for (const alpha of [1.5, 2, 8]) {
          const d = logSumExp([...p1].map(([y, l1]) => alpha * l1 + (1 - alpha) * p0.get(y)!)) / (alpha - 1);
          expect(d).toBeLessThanOrEqual((alpha * delta * delta) / (2 * sigma * sigma) + 1e-9);
        }
      }
    }
  });

  it('Poisson-sampled at integer orders, its RDP is at most the continuous sampled Gaussian the accountant uses', () => {
    for (const sigma of [1, 2, 4]) {
      const p0 = logPmf(sigma);
      const p1 = logPmf(sigma, 1);
      for (const q of [0.01, 0.1, 0.5]) {
        for (const alpha of [2, 3, 5, 8, 12, 32]) {
          const logA = logSumExp([...p0].map(([y, l0]) => l0 + alpha * Math.log(1 - q + q * Math.exp(p1.get(y)! - l0))));
          const discrete = logA / (alpha - 1);
          expect(discrete).toBeLessThanOrEqual(rdpSampledGaussian(q, sigma, alpha) * (1 + 1e-9) + 1e-15);
        }
      }
    }
  });
});
