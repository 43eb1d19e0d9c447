import { CkksError } from './ckksError.js';

/**
 * Largest |sum| a value can hold and still decode: floor(q/2) / scale, less one unit of slack.
 *
 * Why: each value is a coefficient, round(scale * value) (coefficientEncoding.ts), and decryption reads
 * coefficients centred modulo q, so a sum decodes while scale * |sum| plus noise stays below q/2, and wraps
 * around silently beyond. Fresh-encryption noise (about 6 sigma = 19) plus encoding rounding (1/2)
 * per update is far below the one unit of `scale` (2^40 for the defaults) that is kept as slack.
 */
export function sumBound(dataModulus: bigint, scale: number): number {
  return Number(dataModulus / 2n) / scale - 1;
}

/**
 * Largest |value| one update may encode: a coefficient of at most (bits of q) - 2 bits, one bit below what a
 * sum may reach (the limit SEAL's own CKKS encoder sets, "encoded values are too large"), less one unit.
 * It binds only for fewer than 2 contributors.
 */
export function encodeBound(dataModulus: bigint, scale: number): number {
  const bits = dataModulus.toString(2).length;
  return 2 ** (bits - 2) / scale - 1;
}

/**
 * Per-client bound on each weighted value: the sum's headroom shared between `maxContributors` updates,
 * and never above what one update can encode (which binds for fewer than 2 contributors).
 */
export function contributionBound(sumBound: number, maxContributors: number, encodeLimit: number): number {
  return Math.min(sumBound / maxContributors, encodeLimit);
}

/**
 * Writes weight * values[from .. from + out.length) into `out`, clipped to [-bound, bound], and zero
 * pads past the end of `values`. Returns how many values were clipped. Non-finite values are refused
 * rather than clipped: they mean a diverged client, not a large update.
 */
export function scaleAndClip(values: Float32Array, from: number, weight: number, bound: number, out: Float64Array): number {
  const end = Math.min(values.length, from + out.length);
  let clipped = 0;
  let i = from;
  for (; i < end; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) throw new CkksError(`update value ${i} is ${x}: values must be finite`);
    const v = weight * x;
    if (v > bound) {
      out[i - from] = bound;
      clipped++;
    } else if (v < -bound) {
      out[i - from] = -bound;
      clipped++;
    } else {
      out[i - from] = v;
    }
  }
  for (let j = i - from; j < out.length; j++) out[j] = 0;
  return clipped;
}
