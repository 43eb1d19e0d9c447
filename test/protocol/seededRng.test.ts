import { describe, expect, it } from 'vitest';
import { createSeededRng, shuffleInPlace } from '../../src/protocol/seededRng.js';

const draw = (seed: number, n: number): number[] => {
  const rng = createSeededRng(seed);
  return Array.from({ length: n }, () => rng.nextUint32());
};

describe('createSeededRng', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    expect(draw(42, 50)).toEqual(draw(42, 50));
    expect(draw(42, 50)).not.toEqual(draw(43, 50));
    // Seeds beyond 32 bits and negative seeds are mixed in, not truncated into collisions.
    expect(draw(42 + 2 ** 32, 20)).not.toEqual(draw(42, 20));
    expect(draw(-1, 20)).not.toEqual(draw(2 ** 32 - 1, 20));
  });

  it('gives uint32 values, floats in [0, 1) and unbiased bounded ints', () => {
    const rng = createSeededRng(7);
    const counts = new Array<number>(6).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 60_000; i++) {
      const u = rng.nextUint32();
      if (!(Number.isInteger(u) && u >= 0 && u < 2 ** 32)) outOfRange++;
      const f = rng.nextFloat();
      if (!(f >= 0 && f < 1)) outOfRange++;
      const k = rng.nextInt(6);
      counts[k] = (counts[k] as number) + 1;
    }
    expect(outOfRange).toBe(0);
    // Each face 10,000 expected; 5 sigma is about 456.
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(456);
  });

  it('refuses bad seeds and bounds', () => {
    expect(() => createSeededRng(1.5)).toThrow(/safe integer/);
    expect(() => createSeededRng(0).nextInt(0)).toThrow(/bound/);
  });
});

describe('shuffleInPlace', () => {
  it('permutes every element exactly once, reproducibly', () => {
    const a = shuffleInPlace(Array.from({ length: 100 }, (_, i) => i), createSeededRng(1));
    const b = shuffleInPlace(Array.from({ length: 100 }, (_, i) => i), createSeededRng(1));
    expect(a).toEqual(b);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
