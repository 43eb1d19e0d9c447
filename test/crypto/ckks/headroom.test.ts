import { describe, expect, it } from 'vitest';
import { CkksError } from '../../../src/crypto/ckks/ckksError.js';
import { DEFAULT_CKKS_PARAMETERS, checkCkksParameters, dataLevelBits } from '../../../src/crypto/ckks/ckksParameters.js';
import { contributionBound, encodeBound, scaleAndClip, sumBound } from '../../../src/crypto/ckks/headroom.js';

describe('CKKS headroom', () => {
  it('bounds the sum by q/2 over the scale, less one unit', () => {
    // The 60-bit prime SEAL picks for N = 4096 (q = 1 mod 2N), and a scale of 2^40.
    const q = 1152921504606830593n;
    expect(sumBound(q, 2 ** 40)).toBeCloseTo(2 ** 19 - 1, 3);
    // SEAL encodes one update only while its coefficients fit in 58 bits (60, less the sign and one).
    expect(encodeBound(q, 2 ** 40)).toBe(2 ** 18 - 1);
    expect(contributionBound(sumBound(q, 2 ** 40), 100, encodeBound(q, 2 ** 40))).toBeCloseTo((2 ** 19 - 1) / 100, 6);
    expect(contributionBound(sumBound(q, 2 ** 40), 1, encodeBound(q, 2 ** 40))).toBe(2 ** 18 - 1);
  });

  it('weights, clips and counts, and zero pads past the end of the values', () => {
    const values = Float32Array.from([1, -2, 3, -4, 0.5]);
    const out = new Float64Array(4);
    expect(scaleAndClip(values, 0, 2, 5, out)).toBe(2);
    expect([...out]).toEqual([2, -4, 5, -5]);
    expect(scaleAndClip(values, 4, 2, 5, out)).toBe(0);
    expect([...out]).toEqual([1, 0, 0, 0]);
  });

  it('refuses values that are not finite instead of clipping them', () => {
    const out = new Float64Array(4);
    expect(() => scaleAndClip(Float32Array.from([1, Number.NaN]), 0, 1, 5, out)).toThrow(/value 1 is NaN/);
    expect(() => scaleAndClip(Float32Array.from([Number.POSITIVE_INFINITY]), 0, 1, 5, out)).toThrow(CkksError);
  });
});

describe('CKKS parameter checks without SEAL', () => {
  const ok = DEFAULT_CKKS_PARAMETERS;
  it('accepts the defaults', () => {
    expect(() => checkCkksParameters(ok)).not.toThrow();
    expect(dataLevelBits([60])).toBe(60);
    expect(dataLevelBits([40, 40, 60])).toBe(80);
  });

  it('names what is wrong', () => {
    expect(() => checkCkksParameters({ ...ok, polyModulusDegree: 3000 })).toThrow(/power of two from 1024 to 32768, got 3000/);
    expect(() => checkCkksParameters({ ...ok, coeffModulusBits: [] })).toThrow(/at least one prime/);
    expect(() => checkCkksParameters({ ...ok, coeffModulusBits: [61] })).toThrow(/20 to 60 bits, got 61/);
    expect(() => checkCkksParameters({ ...ok, scaleBits: 59 })).toThrow(/no headroom under a 60-bit coefficient modulus/);
    expect(() => checkCkksParameters({ ...ok, maxContributors: 0 })).toThrow(/maxContributors/);
  });
});
