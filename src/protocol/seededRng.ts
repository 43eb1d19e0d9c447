/**
 * A small seeded PRNG (mulberry32, Tommy Ettinger's 32-bit generator) for reproducible data splitting and
 * partitioning only. It is NOT cryptographic: DP noise and SecAgg masks use node:crypto, never this.
 */
export interface SeededRng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1), 32 bits of resolution. */
  nextFloat(): number;
  /** Uniform integer in [0, bound), without modulo bias; 1 <= bound <= 2^32. */
  nextInt(bound: number): number;
}

const TWO_POW_32 = 2 ** 32;

/** A generator seeded by any safe integer (negative and values above 2^32 are mixed in, not truncated). */
export function createSeededRng(seed: number): SeededRng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  let state = (low ^ Math.imul(high, 0x9e3779b9)) | 0;

  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };

  return {
    nextUint32,
    nextFloat: () => nextUint32() / TWO_POW_32,
    nextInt(bound: number): number {
      if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
        throw new RangeError(`bound must be an integer in [1, 2^32], got ${bound}`);
      }
      // Rejection sampling: accept only below the largest multiple of `bound` that fits in 32 bits.
      const limit = TWO_POW_32 - (TWO_POW_32 % bound);
      for (;;) {
        const v = nextUint32();
        if (v < limit) return v % bound;
      }
    },
  };
}

/** Fisher-Yates shuffle, in place; the same seed gives the same permutation. */
export function shuffleInPlace<T>(items: T[], rng: SeededRng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/** Mixes several integers into one 32-bit seed, so (run seed, round, purpose) give independent streams. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return h >>> 0;
}
