import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { addDiscreteGaussianNoise, fillGaussian, gaussian, noiseGrid } from '../../src/privacy/gaussianNoise.js';
import { seededWords } from '../../src/privacy/randomWords.js';
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
 *  - lag-1 correlation (consecutive outputs): |r| <= 5.5 / sqrt(n).
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

describe('CSPRNG Gaussian noise (the discrete Gaussian on a grid of 2^-28 std)', () => {
  it('passes mean, variance, tail, Kolmogorov-Smirnov and correlation checks on 1e6 samples, every one on the grid', () => {
    expect(failures(stats, N), JSON.stringify(stats)).toEqual([]);
    expect(stats.maxAbs).toBeGreaterThan(4); // 1e6 normals reach 4 surely
    // std 1: g = 2^-28, s = 2^28; every sample is a whole number of steps.
    expect(noiseGrid(1)).toEqual({ grid: 2 ** -28, steps: 2 ** 28, std: 1 });
    expect(samples.every((x) => Number.isInteger(x * 2 ** 28))).toBe(true);
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
    const f32 = fillGaussian(new Float32Array(200_001), 3);
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

  it('puts the noise on a power-of-two grid 2^28 to 2^29 steps per std, never below the std asked for', () => {
    for (const std of [1, 3, 0.1, 1e-6, 12345.678, 2 ** 20]) {
      const { grid, steps, std: actual } = noiseGrid(std);
      expect(Number.isInteger(Math.log2(grid))).toBe(true);
      expect(steps).toBeGreaterThanOrEqual(2 ** 28);
      expect(steps).toBeLessThanOrEqual(2 ** 29);
      expect(actual).toBeGreaterThanOrEqual(std);
      expect(actual / std - 1).toBeLessThan(2 ** -28);
    }
    expect(() => noiseGrid(2 ** -950)).toThrow(/too small for an exact grid/);
  });

  it('handles std 0 and empty buffers, and rejects bad arguments', () => {
    expect(Array.from(fillGaussian(new Float64Array([1, 2]), 0))).toEqual([0, 0]);
    expect(gaussian(0, 1)).toHaveLength(0);
    expect(() => gaussian(3, -1)).toThrow(/standard deviation must be >= 0/);
    expect(() => gaussian(3, Number.NaN)).toThrow(/standard deviation/);
    expect(() => gaussian(1.5, 1)).toThrow(/whole number/);
  });
});

describe('the discrete Gaussian mechanism (values rounded to the grid, then noised)', () => {
  it('leaves no trace of a value below the grid, which noise alone on the grid would reveal exactly', () => {
    // Two neighbouring values 0.1 and 0.1 + g/3. Lattice noise added to each reveals which one it was: the
    // outputs sit at 0.1 + gZ or 0.1 + g/3 + gZ. The mechanism rounds first, so both land on gZ.
    const { grid } = noiseGrid(1);
    const a = 0.1;
    const b = 0.1 + grid / 3;
    const naiveA = fillGaussian(new Float64Array(1000), 1).map((x) => x + a);
    const naiveB = fillGaussian(new Float64Array(1000), 1).map((x) => x + b);
    const residue = (x: number) => x / grid - Math.floor(x / grid);
    expect(naiveA.every((x) => Math.abs(residue(x) - residue(a)) < 1e-6)).toBe(true);
    expect(naiveB.every((x) => Math.abs(residue(x) - residue(b)) < 1e-6)).toBe(true); // told apart every time
    const outA = new Float64Array(1000).fill(a);
    const outB = new Float64Array(1000).fill(b);
    const reportA = addDiscreteGaussianNoise(outA, { noiseMultiplier: 1, sensitivity: 1 })!;
    addDiscreteGaussianNoise(outB, { noiseMultiplier: 1, sensitivity: 1 });
    expect(reportA.grid).toBe(grid);
    expect([...outA, ...outB].every((x) => Number.isInteger(x / grid))).toBe(true);
  });

  it('adds noise of std z (sensitivity + sqrt(d) g), in Float32Array and Float64Array, from a seeded stream when given one', () => {
    const d = 100_000;
    const values = new Float32Array(d).fill(0.25);
    const report = addDiscreteGaussianNoise(values, { noiseMultiplier: 1.5, sensitivity: 2 })!;
    expect(report.roundedSensitivity).toBe(2 + Math.sqrt(d) * report.grid);
    expect(report.std).toBeGreaterThanOrEqual(1.5 * report.roundedSensitivity);
    expect(report.std / (1.5 * report.roundedSensitivity) - 1).toBeLessThan(2 ** -27);
    let s = 0;
    let ss = 0;
    for (const v of values) {
      s += v - 0.25;
      ss += (v - 0.25) ** 2;
    }
    // sd of the sample std is std / sqrt(2d): 6 of them is 1.3%.
    expect(Math.abs(Math.sqrt(ss / d) / report.std - 1)).toBeLessThan(6 / Math.sqrt(2 * d));
    expect(Math.abs(s / d)).toBeLessThan((6 * report.std) / Math.sqrt(d));
    const x = Float64Array.of(1, 2, 3);
    const y = Float64Array.of(1, 2, 3);
    addDiscreteGaussianNoise(x, { noiseMultiplier: 1, sensitivity: 1 }, seededWords('same'));
    addDiscreteGaussianNoise(y, { noiseMultiplier: 1, sensitivity: 1 }, seededWords('same'));
    expect(x).toEqual(y);
  });

  it('keeps values with z = 0, and refuses non-finite values and bad parameters', () => {
    const v = Float64Array.of(0.3, -0.7);
    expect(addDiscreteGaussianNoise(v, { noiseMultiplier: 0, sensitivity: 1 })).toBeUndefined();
    expect(Array.from(v)).toEqual([0.3, -0.7]);
    expect(() => addDiscreteGaussianNoise(Float64Array.of(1, Number.NaN), { noiseMultiplier: 1, sensitivity: 1 })).toThrow(/non-finite value \(NaN\) at index 1/);
    expect(() => addDiscreteGaussianNoise(v, { noiseMultiplier: -1, sensitivity: 1 })).toThrow(/noise multiplier/);
    expect(() => addDiscreteGaussianNoise(v, { noiseMultiplier: 1, sensitivity: 0 })).toThrow(/sensitivity/);
  });

  it('keeps a value far above the grid exact: it is a lattice point already, and the sum is one correctly rounded add', () => {
    const { grid } = noiseGrid(1e-6);
    const big = 2 ** 60 * grid * 3;
    const out = Float64Array.of(big);
    addDiscreteGaussianNoise(out, { noiseMultiplier: 1, sensitivity: 1e-6 });
    expect(Number.isFinite(out[0]!)).toBe(true);
    expect(Math.abs(out[0]! - big)).toBeLessThan(1e-4);
  });
});
