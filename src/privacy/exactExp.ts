import type { RandomWords } from './randomWords.js';

/**
 * exp(-x) for a rational x >= 0, bounded exactly with integer (BigInt) arithmetic: the slow path behind the
 * discrete Gaussian sampler's Bernoulli(exp(-x)) trials, taken only when a double-precision comparison cannot
 * decide one (about once in 2^31 trials). Nothing here rounds in an unknown direction: every bound is proved below.
 */

/**
 * Bounds on 2^w exp(-x), x = num / den in [0, 1]: the alternating Taylor series with terms
 * T_k = floor(T_{k-1} x / k), T_0 = 2^w. Each T_k is below the exact term t_k = 2^w x^k / k! by e_k <= e_{k-1} x / k + 1
 * <= k. The series stops at the first T_K = 0, so t_K <= K, and the tail after it is at most t_K (alternating,
 * decreasing terms for x <= 1). The sum is therefore within K^2 / 2 + K <= (K + 1)^2 of 2^w exp(-x).
 */
function expNegSeries(num: bigint, den: bigint, w: bigint): { lo: bigint; hi: bigint } {
  const one = 1n << w;
  let term = one;
  let sum = one;
  let k = 1n;
  for (;;) {
    term = (term * num) / (den * k);
    if (term === 0n) break;
    sum = k & 1n ? sum - term : sum + term;
    k++;
  }
  const slack = (k + 1n) * (k + 1n);
  return { lo: sum - slack, hi: sum + slack };
}

/** Bounds on 2^w a b from bounds on 2^w a and 2^w b (all positive): floor for the lower one, ceiling for the upper. */
function mul(a: { lo: bigint; hi: bigint }, b: { lo: bigint; hi: bigint }, w: bigint): { lo: bigint; hi: bigint } {
  const lo = (a.lo * b.lo) >> w;
  const hiProduct = a.hi * b.hi;
  return { lo: lo > 0n ? lo : 0n, hi: (hiProduct + (1n << w) - 1n) >> w };
}

/**
 * Integers lo <= 2^bits exp(-num/den) <= hi with hi - lo a few units: exp(-x) = exp(-f) exp(-1)^n for x = n + f,
 * computed at 64 guard bits plus the bits exp(-n) needs (1.45 n), then rounded outward to `bits`.
 */
export function expNegBounds(num: bigint, den: bigint, bits: number): { lo: bigint; hi: bigint } {
  if (num < 0n || den <= 0n) throw new RangeError(`exp(-x) needs x = num / den >= 0, got ${num} / ${den}`);
  const n = num / den;
  const f = num - n * den;
  const guard = 64n + ((n * 3n) >> 1n) + BigInt(Math.max(0, Math.ceil(Math.log2(Number(n) + 1))) * 2);
  const w = BigInt(bits) + guard;
  let result = expNegSeries(f, den, w);
  if (n > 0n) {
    let base = expNegSeries(1n, 1n, w);
    let power: { lo: bigint; hi: bigint } = { lo: 1n << w, hi: 1n << w };
    for (let e = n; e > 0n; e >>= 1n) {
      if (e & 1n) power = mul(power, base, w);
      if (e > 1n) base = mul(base, base, w);
    }
    result = mul(result, power, w);
  }
  const lo = result.lo >> guard;
  const hi = (result.hi + (1n << guard) - 1n) >> guard;
  return { lo: lo > 0n ? lo : 0n, hi };
}

/**
 * Whether a uniform W in [0, 1) lies below exp(-num/den), exactly: W's first `bits` bits are `prefix` (so W is in
 * [prefix, prefix + 1) / 2^bits) and further bits are drawn from `words` 32 at a time until the bounds decide.
 * exp(-x) is irrational for rational x > 0 (Lindemann), so no prefix ever straddles it forever: each further word
 * leaves the question open with probability about 2^-16.
 */
export function uniformBelowExpNeg(prefix: bigint, bits: number, num: bigint, den: bigint, words: RandomWords): boolean {
  if (num === 0n) return true; // exp(0) = 1 > W
  for (;;) {
    const { lo, hi } = expNegBounds(num, den, bits + 16);
    const cellLow = prefix << 16n;
    if (cellLow + (1n << 16n) <= lo) return true;
    if (cellLow >= hi) return false;
    prefix = (prefix << 32n) | BigInt(words.word());
    bits += 32;
  }
}
