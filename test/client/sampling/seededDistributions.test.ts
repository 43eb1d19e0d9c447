import { describe, expect, it } from 'vitest';
import { createSeededRng } from '../../../src/protocol/seededRng.js';
import { sampleDirichlet, sampleGamma, sampleLogGamma, sampleNormal } from '../../../src/client/sampling/seededDistributions.js';

function moments(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return { mean, variance: xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1) };
}

const N = 40_000;

describe('seeded distributions', () => {
  it('normal: mean 0, variance 1', () => {
    const rng = createSeededRng(1);
    const { mean, variance } = moments(Array.from({ length: N }, () => sampleNormal(rng)));
    // Standard errors: 0.005 for the mean, 0.007 for the variance.
    expect(Math.abs(mean)).toBeLessThan(0.025);
    expect(Math.abs(variance - 1)).toBeLessThan(0.035);
  });

  it.each([0.1, 0.5, 1, 2.5, 30])('gamma(%f): mean and variance equal the shape (within 4 standard errors)', (shape) => {
    const rng = createSeededRng(2);
    const { mean, variance } = moments(Array.from({ length: N }, () => sampleGamma(shape, rng)));
    // Var(sample mean) = k / N; Var(sample variance) ~ (mu4 - sigma^4) / N = k^2 (2 + 6 / k) / N for Gamma(k, 1).
    expect(Math.abs(mean - shape)).toBeLessThan(4 * Math.sqrt(shape / N));
    expect(Math.abs(variance - shape)).toBeLessThan(4 * shape * Math.sqrt((2 + 6 / shape) / N));
  });

  it('log-gamma for a tiny shape has E[log X] = digamma(shape)', () => {
    // digamma(0.01) = -100.5608 (-1/x - Euler's gamma + pi^2 x / 6 + ...); sd(log X) = sqrt(trigamma(0.01)) ~ 100.
    const rng = createSeededRng(6);
    const { mean } = moments(Array.from({ length: N }, () => sampleLogGamma(0.01, rng)));
    expect(Math.abs(mean + 100.5608)).toBeLessThan(4 * (100 / Math.sqrt(N)));
  });

  it('log-gamma stays finite where the gamma itself underflows', () => {
    const rng = createSeededRng(3);
    const logs = Array.from({ length: 1000 }, () => sampleLogGamma(0.001, rng));
    expect(logs.every(Number.isFinite)).toBe(true);
    expect(logs.some((l) => Math.exp(l) === 0)).toBe(true);
  });

  it('dirichlet: proportions sum to 1, mean alpha_i / sum(alpha), and the same seed repeats', () => {
    const alpha = [0.5, 1, 2.5];
    const rng = createSeededRng(4);
    const draws = Array.from({ length: 20_000 }, () => sampleDirichlet(alpha, rng));
    for (const d of draws) expect(Math.abs(d.reduce((s, p) => s + p, 0) - 1)).toBeLessThan(1e-12);
    alpha.forEach((a, i) => expect(moments(draws.map((d) => d[i]!)).mean).toBeCloseTo(a / 4, 2));
    expect(sampleDirichlet([1e-5, 1e-5], createSeededRng(9))).toEqual(sampleDirichlet([1e-5, 1e-5], createSeededRng(9)));
    expect(sampleDirichlet([1e-5, 1e-5], createSeededRng(9)).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
  });

  it('refuses invalid parameters', () => {
    const rng = createSeededRng(5);
    expect(() => sampleLogGamma(0, rng)).toThrow(RangeError);
    expect(() => sampleLogGamma(Number.POSITIVE_INFINITY, rng)).toThrow(RangeError);
    expect(() => sampleDirichlet([], rng)).toThrow(RangeError);
  });
});
