import { describe, expect, it } from 'vitest';
import { conditionalRound, DP_MAX_COHORT, dpCohortRefusal, dpEncoding, GRID_UNITS, signedSum } from '../../../src/crypto/secagg/dpEncoding.js';

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('the distributed-DP encoding (conditional randomized rounding)', () => {
  it('bounds every encoded update by the sensitivity, whatever the coins, and clips to C first', () => {
    const d = 10_000;
    const enc = dpEncoding(2, d);
    expect(enc.scale).toBe(GRID_UNITS / 2);
    // KLS21's bound: barely above C x scale when C spans 2^16 steps and d = 10k.
    expect(enc.sensitivity / GRID_UNITS).toBeGreaterThan(1);
    expect(enc.sensitivity / GRID_UNITS).toBeLessThan(1.03);
    const big = Float32Array.from({ length: d }, (_, i) => Math.sin(i)); // norm ~70, far beyond C = 2
    for (let r = 0; r < 5; r++) {
      const { encoded, clipped } = conditionalRound(big, enc);
      expect(clipped).toBe(true);
      expect(norm(signedSum(encoded))).toBeLessThanOrEqual(enc.sensitivity);
    }
    const small = Float32Array.from({ length: d }, (_, i) => (i % 2 ? 0.01 : -0.01)); // norm 1
    const { encoded, clipped } = conditionalRound(small, enc);
    expect(clipped).toBe(false);
    const back = signedSum(encoded);
    for (let i = 0; i < 10; i++) expect(Math.abs(back[i]! / enc.scale - small[i]!)).toBeLessThanOrEqual(1 / enc.scale);
  });

  it('encodes negatives as two\'s complement: sums of mixed signs decode exactly', () => {
    const enc = dpEncoding(1, 4);
    const a = conditionalRound(Float32Array.of(-0.5, 0.25, 0, -0.125), enc).encoded;
    const b = conditionalRound(Float32Array.of(0.25, -0.5, 0, -0.125), enc).encoded;
    const sum = a.map((x, i) => (x + b[i]!) >>> 0);
    expect(Array.from(signedSum(sum)).map((x) => x / enc.scale)).toEqual([-0.25, -0.25, 0, -0.25]);
  });

  it('refuses a round larger than the cohort whose worst-case sum (every value at the sensitivity, noise at 6 sigma, z = 10) stays inside +-2^31', () => {
    const worst = dpEncoding(1, 100_000_000).sensitivity; // |value| <= L2 norm <= sensitivity, for a 100M model
    expect(DP_MAX_COHORT * worst + 6 * 10 * worst).toBeLessThan(2 ** 31);
    expect(dpCohortRefusal(DP_MAX_COHORT)).toBeUndefined();
    expect(dpCohortRefusal(DP_MAX_COHORT + 1)).toMatch(/at most 10,000 clients .*selected 10,001: lower fractionFit or minFitClients/);
  });
});

