import { csprngWords, type RandomWords } from './randomWords.js';

/**
 * Canonne, Kamath and Steinke 2020 (arXiv:2004.00010), Algorithms 1-3, transcribed as the paper states them, with
 * every rational in BigInt: the reference the fast sampler (`discreteGaussian.ts`) is tested and benchmarked
 * against. It takes any rational sigma^2 (the fast one takes a whole sigma), and it is slow: each Bernoulli(exp(-x))
 * is a von Neumann series of Bernoulli(x / k) draws, each a uniform BigInt below a denominator.
 */

/** A uniform BigInt in [0, n), n >= 1, by rejection on the bit length of n. */
function uniformBelow(n: bigint, words: RandomWords): bigint {
  const bits = n.toString(2).length;
  const wordCount = Math.ceil(bits / 32);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    let r = 0n;
    for (let i = 0; i < wordCount; i++) r = (r << 32n) | BigInt(words.word());
    r &= mask;
    if (r < n) return r;
  }
}

/** Bernoulli(num / den) for 0 <= num <= den. */
function bernoulli(num: bigint, den: bigint, words: RandomWords): boolean {
  return uniformBelow(den, words) < num;
}

/** CKS20 Algorithm 1: Bernoulli(exp(-gamma)) for a rational gamma = num / den >= 0. */
export function bernoulliExpNegReference(num: bigint, den: bigint, words: RandomWords = csprngWords): boolean {
  if (num <= den) {
    let k = 1n;
    while (bernoulli(num, den * k, words)) k++;
    return (k & 1n) === 1n;
  }
  const whole = num / den;
  for (let i = 0n; i < whole; i++) if (!bernoulliExpNegReference(1n, 1n, words)) return false;
  return bernoulliExpNegReference(num - whole * den, den, words);
}

/** CKS20 Algorithm 2: the discrete Laplace with scale t / s (integers s, t >= 1). */
export function discreteLaplaceReference(s: bigint, t: bigint, words: RandomWords = csprngWords): bigint {
  for (;;) {
    const u = uniformBelow(t, words);
    if (!bernoulliExpNegReference(u, t, words)) continue;
    let v = 0n;
    while (bernoulliExpNegReference(1n, 1n, words)) v++;
    const y = (u + t * v) / s;
    const negative = words.bit() === 1;
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** CKS20 Algorithm 3: N_Z(0, sigma^2) for sigma^2 = num / den > 0. */
export function discreteGaussianReference(num: bigint, den: bigint, words: RandomWords = csprngWords): bigint {
  if (num <= 0n || den <= 0n) throw new RangeError(`sigma^2 must be a positive rational, got ${num} / ${den}`);
  const t = isqrt(num * den) / den + 1n; // floor(sqrt(num / den)) + 1
  for (;;) {
    const y = discreteLaplaceReference(1n, t, words);
    const a = y < 0n ? -y : y;
    // (|Y| - sigma^2 / t)^2 / (2 sigma^2) = (|Y| den t - num)^2 / (2 num den t^2)
    const diff = a * den * t - num;
    if (bernoulliExpNegReference(diff * diff, 2n * num * den * t * t, words)) return y;
  }
}
