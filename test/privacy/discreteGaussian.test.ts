import { describe, expect, it, vi } from 'vitest';
import { DiscreteGaussian, sampleDiscreteGaussian } from '../../src/privacy/discreteGaussian.js';
import { bernoulliExpNegReference, discreteGaussianReference } from '../../src/privacy/discreteGaussianReference.js';
import { expNegBounds, uniformBelowExpNeg } from '../../src/privacy/exactExp.js';
import { erfc } from '../../src/privacy/logErfc.js';
import { RandomWords, seededWords } from '../../src/privacy/randomWords.js';

/**
 * The sampler's distribution against the exact discrete Gaussian pmf. Thresholds: a chi-squared statistic is
 * rejected when its Wilson-Hilferty normal score passes 5.2 (p about 1e-7); a Kolmogorov-Smirnov distance when
 * sqrt(n) D > 2.9 (Dvoretzky-Kiefer-Wolfowitz-Massart: p <= 2 exp(-2 x^2) = 1e-7). The tests that draw from the
 * CSPRNG therefore fail by chance about once in a million runs; the negative controls draw from a seeded stream
 * (AES-CTR), so their verdicts are the same on every run.
 */

/** P(Y = y) for Y ~ N_Z(0, sigma^2), sigma any positive real, on |y| <= 40 sigma + 10 (the rest is below 1e-300). */
function pmf(sigma: number): Map<number, number> {
  const limit = Math.ceil(40 * sigma) + 10;
  const weights = new Map<number, number>();
  let total = 0;
  for (let y = -limit; y <= limit; y++) {
    const w = Math.exp(-(y * y) / (2 * sigma * sigma));
    weights.set(y, w);
    total += w;
  }
  for (const [y, w] of weights) weights.set(y, w / total);
  return weights;
}

/** Pearson's chi-squared of integer samples against `probabilities`, cells with fewer than 20 expected merged into the tails. */
function chiSquaredScore(samples: ArrayLike<number>, probabilities: Map<number, number>): { score: number; cells: number } {
  const n = samples.length;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(samples[i]!, (counts.get(samples[i]!) ?? 0) + 1);
  const ys = [...probabilities.keys()].sort((a, b) => a - b);
  const central = ys.filter((y) => probabilities.get(y)! * n >= 20);
  const lo = central[0]!;
  const hi = central[central.length - 1]!;
  const cells: { expected: number; observed: number }[] = [{ expected: 0, observed: 0 }];
  for (const y of central) cells.push({ expected: probabilities.get(y)! * n, observed: counts.get(y) ?? 0 });
  cells.push({ expected: 0, observed: 0 });
  for (const y of ys) {
    if (y >= lo && y <= hi) continue;
    const cell = y < lo ? cells[0]! : cells[cells.length - 1]!;
    cell.expected += probabilities.get(y)! * n;
  }
  for (const [y, c] of counts) {
    if (y < lo) cells[0]!.observed += c;
    else if (y > hi) cells[cells.length - 1]!.observed += c;
    else if (!probabilities.has(y)) throw new Error(`sample ${y} outside the support considered`);
  }
  const used = cells.filter((c) => c.expected > 0 || c.observed > 0);
  let x2 = 0;
  for (const c of used) x2 += c.expected > 0 ? (c.observed - c.expected) ** 2 / c.expected : Infinity;
  const k = used.length - 1;
  const score = (Math.cbrt(x2 / k) - (1 - 2 / (9 * k))) / Math.sqrt(2 / (9 * k));
  return { score, cells: used.length };
}

/** sqrt(n) times the Kolmogorov-Smirnov distance of samples / sigma to N(0, 1), CDF read at the lattice points. */
function ksScore(samples: Float64Array, sigma: number): number {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  const cdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
  let d = 0;
  for (let i = 0; i < n; i++) {
    // At sigma = 2^28 the lattice's steps (2^-28 sigma) are far below what 2e5 samples can resolve.
    const f = cdf(sorted[i]! / sigma);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return Math.sqrt(n) * d;
}

const CHI_LIMIT = 5.2;
const KS_LIMIT = 2.9;

describe('discrete Gaussian sampler (CKS20 Algorithm 3, from the CSPRNG)', () => {
  it.each([1, 3, 10])('matches the exact N_Z(0, %i^2) pmf (chi-squared, 200,000 draws)', (sigma) => {
    const samples = new DiscreteGaussian(sigma).fill(new Float64Array(200_000));
    const { score, cells } = chiSquaredScore(samples, pmf(sigma));
    expect(cells).toBeGreaterThan(4 * sigma);
    expect(score).toBeLessThan(CHI_LIMIT);
  });

  it('the chi-squared test rejects a sigma 5% off and a rounded continuous Gaussian (seeded negative controls)', () => {
    const words = seededWords('negative control');
    const right = new DiscreteGaussian(10, words).fill(new Float64Array(200_000));
    expect(chiSquaredScore(right, pmf(10)).score).toBeLessThan(CHI_LIMIT); // the same stream passes at the right sigma
    expect(chiSquaredScore(right, pmf(10.5)).score).toBeGreaterThan(CHI_LIMIT);
    expect(chiSquaredScore(right, pmf(9.5)).score).toBeGreaterThan(CHI_LIMIT);
    // Rounding N(0, 1) to the nearest integer is not N_Z(0, 1): P(0) is 0.383 against 0.399. Same stream, Box-Muller.
    const rounded = new Float64Array(200_000);
    for (let i = 0; i < rounded.length; i += 2) {
      const u1 = (words.word() + 1) / 2 ** 32;
      const u2 = words.word() / 2 ** 32;
      const r = Math.sqrt(-2 * Math.log(u1));
      rounded[i] = Math.round(r * Math.cos(2 * Math.PI * u2)) + 0;
      rounded[i + 1] = Math.round(r * Math.sin(2 * Math.PI * u2)) + 0;
    }
    expect(chiSquaredScore(rounded, pmf(1)).score).toBeGreaterThan(CHI_LIMIT);
  });

  it('at the noise grid (sigma = 2^28) follows N(0, sigma^2) (Kolmogorov-Smirnov, 200,000 draws); a 5% wider sigma is rejected', () => {
    const sigma = 2 ** 28;
    const samples = new DiscreteGaussian(sigma).fill(new Float64Array(200_000));
    expect(ksScore(samples, sigma)).toBeLessThan(KS_LIMIT);
    expect(samples.every((y) => Number.isInteger(y))).toBe(true);
    const wide = new DiscreteGaussian(Math.round(sigma * 1.05), seededWords('wide')).fill(new Float64Array(200_000));
    expect(ksScore(wide, sigma)).toBeGreaterThan(KS_LIMIT);
  });

  it('its exact (integer) comparison path gives the same distribution when every trial takes it', () => {
    const samples = new DiscreteGaussian(3, undefined, true).fill(new Float64Array(20_000));
    expect(chiSquaredScore(samples, pmf(3)).score).toBeLessThan(CHI_LIMIT);
    const wrong = new DiscreteGaussian(3, seededWords('exact path'), true).fill(new Float64Array(20_000));
    expect(chiSquaredScore(wrong, pmf(3)).score).toBeLessThan(CHI_LIMIT);
    expect(chiSquaredScore(wrong, pmf(3.5)).score).toBeGreaterThan(CHI_LIMIT);
  });

  it('draws from node:crypto, never Math.random, and refuses a sigma it cannot take', () => {
    const random = vi.spyOn(Math, 'random');
    sampleDiscreteGaussian(5);
    expect(random).not.toHaveBeenCalled();
    random.mockRestore();
    expect(() => new DiscreteGaussian(0)).toThrow(/whole number in \[1, 2147483647\]/);
    expect(() => new DiscreteGaussian(2.5)).toThrow(/whole number/);
    expect(() => new DiscreteGaussian(2 ** 31)).toThrow(/whole number/);
  });
});

describe('the paper transcribed with BigInt rationals (CKS20 Algorithms 1-3, the reference)', () => {
  it('matches N_Z(0, 9/4) (a sigma that is not whole) and rejects 11/4', () => {
    const samples = Array.from({ length: 30_000 }, () => Number(discreteGaussianReference(9n, 4n)));
    expect(chiSquaredScore(samples, pmf(1.5)).score).toBeLessThan(CHI_LIMIT);
    const words = seededWords('reference');
    const seeded = Array.from({ length: 30_000 }, () => Number(discreteGaussianReference(9n, 4n, words)));
    expect(chiSquaredScore(seeded, pmf(Math.sqrt(11 / 4))).score).toBeGreaterThan(CHI_LIMIT);
  });

  it('Algorithm 1 draws Bernoulli(exp(-gamma)) for gamma below and above 1', () => {
    for (const [num, den] of [
      [1n, 3n],
      [5n, 2n],
    ] as const) {
      const n = 40_000;
      let ones = 0;
      for (let i = 0; i < n; i++) if (bernoulliExpNegReference(num, den)) ones++;
      const p = Math.exp(-Number(num) / Number(den));
      expect(Math.abs(ones - n * p)).toBeLessThan(5.2 * Math.sqrt(n * p * (1 - p)));
    }
  });
});

describe('exact bounds on exp(-x) and the comparison they decide', () => {
  it('bracket exp(-1), exp(-7/3) and exp(-1000) within a few units of the last place (values from 600-digit decimals)', () => {
    const e1 = 466342594412604466517458581545n; // floor(2^100 exp(-1))
    const a = expNegBounds(1n, 1n, 100);
    expect(a.lo <= e1 && e1 <= a.hi && a.hi - a.lo <= 4n).toBe(true);
    const e73 = 155827944387972725532497111446261223152663421288846712591844n; // floor(2^200 exp(-7/3))
    const b = expNegBounds(7n, 3n, 200);
    expect(b.lo <= e73 && e73 <= b.hi && b.hi - b.lo <= 4n).toBe(true);
    const e1000 = 178037543217998465n; // floor(2^1500 exp(-1000))
    const c = expNegBounds(1000n, 1n, 1500);
    expect(c.lo <= e1000 && e1000 <= c.hi && c.hi - c.lo <= 4n).toBe(true);
    expect(expNegBounds(0n, 5n, 64)).toEqual({ lo: 2n ** 64n - 1n, hi: 2n ** 64n + 1n });
  });

  it('decides a uniform whose first 32 bits straddle exp(-x) by drawing more, and gets it right', () => {
    // W's prefix is the 32-bit cell that holds exp(-7/3); the words that follow decide, and the answer must be
    // what comparing the whole W (prefix and the words it drew) with 200 bits of exp(-7/3) says.
    const exact = expNegBounds(7n, 3n, 200).lo;
    const prefix = exact >> 168n;
    for (let trial = 0; trial < 50; trial++) {
      const drawn: number[] = [];
      const words = seededWords(`straddle ${trial}`);
      const recording = new RandomWords((w) => {
        for (let i = 0; i < w.length; i++) drawn.push((w[i] = words.word()));
      }, 1);
      const below = uniformBelowExpNeg(prefix, 32, 7n, 3n, recording);
      let w = prefix;
      for (const d of drawn) w = (w << 32n) | BigInt(d);
      const bits = 32 + 32 * drawn.length;
      const wAt200 = bits >= 200 ? w >> BigInt(bits - 200) : w << BigInt(200 - bits);
      expect(drawn.length).toBeGreaterThan(0);
      // W < exp(-7/3) exactly when W's drawn prefix lies below the 200-bit floor (it never equals it here).
      expect(below).toBe(wAt200 < exact);
    }
    expect(uniformBelowExpNeg(2n ** 32n - 1n, 32, 0n, 1n, new RandomWords())).toBe(true);
  });
});
