import { uniformBelowExpNeg } from './exactExp.js';
import { csprngWords, type RandomWords } from './randomWords.js';

/**
 * The discrete Gaussian N_Z(0, s^2): P(Y = y) proportional to exp(-y^2 / (2 s^2)) over the integers y, sampled exactly
 * by Canonne, Kamath and Steinke 2020 ("The Discrete Gaussian for Differential Privacy", NeurIPS; arXiv:2004.00010),
 * Algorithm 3: draw Y from the discrete Laplace with scale t = floor(s) + 1 (their Algorithm 2) and keep it with
 * probability exp(-(|Y| - s^2/t)^2 / (2 s^2)). Here s is an integer, so t = s + 1 and every probability the
 * algorithm needs is exp(-x) for a rational x: U/t (the Laplace's uniform part), 1 (its geometric part) and
 * (|Y| t - s^2)^2 / (2 s^2 t^2) (Algorithm 3's acceptance).
 *
 * Each Bernoulli(exp(-x)) is one uniform W compared with exp(-x), which is exact as long as the comparison is.
 * The paper draws them with its Algorithm 1 (a von Neumann-style series of Bernoulli(x/k) on rationals, as
 * `discreteGaussianReference.ts` does with BigInt); here the comparison is made on the first 32 bits of W
 * against Math.exp(-x) and decided only when W's cell lies outside exp(-x) times (1 +- 2^-39 (1 + x)) (a
 * margin thousands of times the error of x in double precision and of Math.exp, which is under one ulp).
 * Otherwise, about once in 2^31 trials, `uniformBelowExpNeg` extends W and bounds exp(-x) with integer arithmetic
 * until it decides. The samples are therefore exactly N_Z(0, s^2), with no cut tail, and a draw takes about 7.5
 * random words (Algorithm 3 accepts about 3 Laplace samples in 4, Algorithm 2 about 2 uniforms in 3).
 */

/** The largest s the sampler takes: t = s + 1 must be a uniform draw from one 32-bit word. */
export const MAX_DISCRETE_SIGMA = 2 ** 31 - 1;

const WORD = 2 ** -32;
const EXP_MINUS_1 = Math.exp(-1);
/** Below every exp(-x) that is not zero in double precision covers the underflow of Math.exp near 2^-1074. */
const TINY = 2 ** -1000;

/**
 * One Bernoulli(exp(-x)) trial from the word `w` (W's first 32 bits), given p = Math.exp(-x) computed from an
 * approximation of x: 1 or 0 when W's cell [w, w + 1) 2^-32 lies clearly below or above exp(-x), 2 when the
 * double-precision comparison cannot tell (the caller then decides exactly).
 */
function decide(w: number, p: number, relativeMargin: number): number {
  const margin = p * relativeMargin + TINY;
  if ((w + 1) * WORD <= p - margin) return 1;
  if (w * WORD >= p + margin) return 0;
  return 2;
}

/**
 * The same trial for x in [0, 1) without Math.exp when it can: 1 - x + x^2/2 - x^3/6 <= exp(-x) <= 1 - x + x^2/2
 * for x >= 0 (Taylor with its alternating remainder), so a cell below the first or above the second is decided
 * by two polynomials; only the cells between them (width x^3 / 6: for a uniform x, one in 24) call decide(). The
 * 2^-40 margin covers the polynomials' rounding (a few ulps) and x's (a relative 2^-52).
 */
function decideSmall(w: number, x: number, relativeMargin: number): number {
  const upper = 1 - x + 0.5 * x * x;
  const lower = upper - (x * x * x) / 6;
  if ((w + 1) * WORD <= lower - 2 ** -40) return 1;
  if (w * WORD >= upper + 2 ** -40) return 0;
  return decide(w, Math.exp(-x), relativeMargin);
}

/** A sampler of N_Z(0, s^2) for one integer s; construct once, draw many (the constants are precomputed). */
export class DiscreteGaussian {
  private readonly t: number;
  private readonly belowLimit: number;
  private readonly inverseT: number;
  private readonly twoSigmaSquared: number;
  private readonly exact: { readonly s2: bigint; readonly t: bigint; readonly den: bigint };

  /**
   * `exactComparisons` decides every Bernoulli trial with the integer bounds instead of double precision first
   * (hundreds of times slower): the same distribution, for the tests of that path.
   */
  constructor(
    /** The standard deviation of the integers drawn: a whole number in [1, 2^31 - 1]. */
    readonly sigma: number,
    private readonly words: RandomWords = csprngWords,
    private readonly exactComparisons = false,
  ) {
    if (!(Number.isInteger(sigma) && sigma >= 1 && sigma <= MAX_DISCRETE_SIGMA)) {
      throw new RangeError(`the discrete Gaussian's sigma must be a whole number in [1, ${MAX_DISCRETE_SIGMA}], got ${sigma}`);
    }
    this.t = sigma + 1;
    this.belowLimit = Math.floor(2 ** 32 / this.t) * this.t;
    this.inverseT = 1 / this.t;
    this.twoSigmaSquared = 2 * sigma * sigma;
    const s2 = BigInt(sigma) ** 2n;
    const t = BigInt(this.t);
    this.exact = { s2, t, den: 2n * s2 * t * t };
  }

  /** One draw of N_Z(0, sigma^2). */
  sample(): number {
    for (;;) {
      const y = this.laplace();
      const absY = Math.abs(y);
      // |Y| - s^2/t = (|Y| - s + 1) - 1/t, since s^2 / (s + 1) = s - 1 + 1/(s + 1): no cancellation of large terms.
      const d = absY - this.sigma + 1 - this.inverseT;
      const x = (d * d) / this.twoSigmaSquared;
      const w = this.words.word();
      const margin = 2 ** -39 * (1 + x);
      let keep = this.exactComparisons ? 2 : x < 1 ? decideSmall(w, x, margin) : decide(w, Math.exp(-x), margin);
      if (keep === 2) {
        const { s2, t, den } = this.exact;
        const diff = BigInt(absY) * t - s2;
        keep = uniformBelowExpNeg(BigInt(w), 32, diff * diff, den, this.words) ? 1 : 0;
      }
      if (keep === 1) return y;
    }
  }

  /** Fills `out` with independent draws; returns it. */
  fill<T extends Float64Array | Int32Array>(out: T): T {
    for (let i = 0; i < out.length; i++) out[i] = this.sample();
    return out;
  }

  /** CKS20 Algorithm 2 with s = 1: the discrete Laplace, P(X = x) proportional to exp(-|x| / t). */
  private laplace(): number {
    const { t, words } = this;
    for (;;) {
      const u = words.below(t, this.belowLimit);
      const w = words.word();
      let d = this.exactComparisons ? 2 : decideSmall(w, u * this.inverseT, 2 ** -39);
      if (d === 2) d = uniformBelowExpNeg(BigInt(w), 32, BigInt(u), this.exact.t, words) ? 1 : 0;
      if (d === 0) continue;
      let v = 0;
      for (;;) {
        const w1 = words.word();
        let a = this.exactComparisons ? 2 : decide(w1, EXP_MINUS_1, 2 ** -39);
        if (a === 2) a = uniformBelowExpNeg(BigInt(w1), 32, 1n, 1n, words) ? 1 : 0;
        if (a === 0) break;
        v++;
      }
      const x = u + t * v;
      const negative = words.bit();
      if (negative === 1 && x === 0) continue;
      return negative === 1 ? -x : x;
    }
  }
}

/** One draw of N_Z(0, sigma^2) for a whole sigma >= 1 (a sampler is built per call: use DiscreteGaussian for many). */
export function sampleDiscreteGaussian(sigma: number, words: RandomWords = csprngWords): number {
  return new DiscreteGaussian(sigma, words).sample();
}
