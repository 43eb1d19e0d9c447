import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fillGaussian, gaussian } from '../../src/privacy/gaussianNoise.js';
import { erfc } from '../../src/privacy/logErfc.js';

/**
 * Statistical checks on 1e6 samples. Each threshold is set so that a correct N(0, 1) sampler fails it with
 * probability below 1e-7, so the whole file fails by chance with probability below 1e-6:
 *  - mean: |mean| <= 5.5 / sqrt(n) (the mean is N(0, 1/n); P(|Z| > 5.5) = 3.8e-8);
 *  - variance: |var - 1| <= 6 sqrt(2 / n) (sd of the sample variance is sqrt(2/n); P(|Z| > 6) = 2e-9);
 *  - beyond 3 sigma: count within 6 sd of n p, p = P(|Z| > 3) = 0.0026997960632601866 (binomial sd 51.9);
 *  - beyond 4 sigma: count in [16, 120] around n p = 63.3, p = 6.334248366623996e-5 (Chernoff bounds on the
 *    binomial: both tails below 1e-8);
 *  - Kolmogorov-Smirnov distance to the normal CDF: D <= 2.9 / sqrt(n) (Dvoretzky-Kiefer-Wolfowitz-Massart:
 *    P(sqrt(n) D > x) <= 2 exp(-2 x^2) = 1e-7 at x = 2.9, for every n);
 *  - lag-1 correlation (consecutive outputs, which share a Box-Muller radius in pairs): |r| <= 5.5 / sqrt(n).
 */
interface Report {
  mean: number;
  variance: number;
  beyond3: number;
  beyond4: number;
  ks: number;
  lag1: number;
  maxAbs: number;
}

const normalCdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
const P3 = 0.0026997960632601866;
const P4 = 6.334248366623996e-5;

function report(samples: Float64Array): Report {
  const n = samples.length;
  let sum = 0;
  let sumSq = 0;
  let beyond3 = 0;
  let beyond4 = 0;
  let lag = 0;
  let maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i]!;
    sum += x;
    sumSq += x * x;
    const a = Math.abs(x);
    if (a > 3) beyond3++;
    if (a > 4) beyond4++;
    if (a > maxAbs) maxAbs = a;
    if (i > 0) lag += x * samples[i - 1]!;
  }
  const mean = sum / n;
  const variance = sumSq / n - mean * mean;
  const sorted = Float64Array.from(samples).sort();
  let ks = 0;
  for (let i = 0; i < n; i++) {
    const f = normalCdf(sorted[i]!);
    ks = Math.max(ks, f - i / n, (i + 1) / n - f);
  }
  return { mean, variance, beyond3, beyond4, ks, lag1: (lag / (n - 1) - mean * mean) / variance, maxAbs };
}

function failures(r: Report, n: number): string[] {
  const out: string[] = [];
  const sdTail3 = Math.sqrt(n * P3 * (1 - P3));
  if (Math.abs(r.mean) > 5.5 / Math.sqrt(n)) out.push(`mean ${r.mean}`);
  if (Math.abs(r.variance - 1) > 6 * Math.sqrt(2 / n)) out.push(`variance ${r.variance}`);
  if (Math.abs(r.beyond3 - n * P3) > 6 * sdTail3) out.push(`beyond 3 sigma: ${r.beyond3}, expected ${n * P3}`);
  if (n === 1_000_000 && (r.beyond4 < 16 || r.beyond4 > 120)) out.push(`beyond 4 sigma: ${r.beyond4}, expected ${n * P4}`);
  if (r.ks > 2.9 / Math.sqrt(n)) out.push(`KS distance ${r.ks}`);
  if (Math.abs(r.lag1) > 5.5 / Math.sqrt(n)) out.push(`lag-1 correlation ${r.lag1}`);
  return out;
}

const N = 1_000_000;
let samples: Float64Array;
let stats: Report;

beforeAll(() => {
  samples = gaussian(N, 1);
  stats = report(samples);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('CSPRNG Gaussian noise', () => {
  it('passes mean, variance, tail, Kolmogorov-Smirnov and correlation checks on 1e6 samples', () => {
    expect(failures(stats, N), JSON.stringify(stats)).toEqual([]);
    // Box-Muller on 53-bit uniforms cannot go past sqrt(2 * 53 ln 2) = 8.57, and 1e6 normals reach 4 surely.
    expect(stats.maxAbs).toBeLessThanOrEqual(Math.sqrt(2 * 53 * Math.LN2));
    expect(stats.maxAbs).toBeGreaterThan(4);
  });

  it('the checks catch wrong samplers (a 1% too wide normal, a uniform with the right variance, repeated pairs)', () => {
    const wide = samples.map((x) => 1.01 * x);
    expect(failures(report(wide), N).join()).toMatch(/variance/);
    const uniform = samples.map((x) => Math.sqrt(3) * (2 * normalCdf(x) - 1)); // mean 0, variance 1, not normal
    expect(failures(report(uniform), N).join()).toMatch(/beyond 3 sigma.*KS distance/);
    const repeated = samples.map((x, i) => (i % 2 === 1 ? samples[i - 1]! : x));
    expect(failures(report(repeated), N).join()).toMatch(/lag-1 correlation/);
  });

  it('fills Float32Array and Float64Array buffers at the requested standard deviation, never with Math.random', () => {
    const random = vi.spyOn(Math, 'random');
    const f32 = fillGaussian(new Float32Array(200_001), 3); // odd length: the last pair is cut in half
    const f64 = fillGaussian(new Float64Array(3), 0.5);
    expect(random).not.toHaveBeenCalled();
    let sumSq = 0;
    for (const x of f32) sumSq += x * x;
    // sd of the sample variance: 9 sqrt(2 / n) = 0.0285; 6 sd
    expect(Math.abs(sumSq / f32.length - 9)).toBeLessThan(0.171);
    expect(f32[f32.length - 1]).not.toBe(0);
    expect(f64.every((x) => Number.isFinite(x) && x !== 0)).toBe(true);
    // two calls never repeat
    expect(gaussian(4, 1)).not.toEqual(gaussian(4, 1));
  });

  it('handles std 0 and empty buffers, and rejects bad arguments', () => {
    expect(Array.from(fillGaussian(new Float64Array([1, 2]), 0))).toEqual([0, 0]);
    expect(gaussian(0, 1)).toHaveLength(0);
    expect(() => gaussian(3, -1)).toThrow(/standard deviation must be >= 0/);
    expect(() => gaussian(3, Number.NaN)).toThrow(/standard deviation/);
    expect(() => gaussian(1.5, 1)).toThrow(/whole number/);
  });
});
