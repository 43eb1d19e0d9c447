import { randomBytes } from 'node:crypto';

/**
 * Fixed-point encoding of an update into Z_(2^bits) for masked summation (Bonawitz et al. 2017, section 3).
 * A value x in [-range, range] maps to (x + range) / (2 range) x L, stochastically rounded to an integer in
 * [0, L], with L = floor((2^bits - 1) / cohort): the sum of up to `cohort` encodings stays below 2^bits, so the
 * masked sum never wraps. Values outside [-range, range] are clipped to it and counted.
 */
export interface QuantizationParameters {
  /** Bits of the ring Z_(2^bits): 8 to 32. */
  readonly bits: number;
  /** The largest magnitude a value may have before it is clipped. */
  readonly range: number;
  /** The most encodings the sum will hold (the round's cohort). */
  readonly cohort: number;
}

export interface Quantized {
  readonly values: Uint32Array;
  readonly clipped: number;
}

/** The narrowest ring the options accept. */
export const MIN_BITS = 8;

/** The fewest bits whose ring holds the sum of `cohort` encodings of at least 2 levels each (a value's sign). */
export function smallestBits(cohort: number): number {
  let bits = MIN_BITS;
  while (Math.floor((2 ** bits - 1) / cohort) < 2) bits++;
  return bits;
}

/** Integer levels a value spans: the sum of `cohort` of them fits in 2^bits - 1. */
export function quantizationLevels(p: QuantizationParameters): number {
  if (!(Number.isInteger(p.bits) && p.bits >= MIN_BITS && p.bits <= 32)) throw new Error(`secaggplus.bits must be an integer from ${MIN_BITS} to 32, got ${p.bits}`);
  if (!(p.range > 0 && Number.isFinite(p.range))) throw new Error(`secaggplus.clippingRange must be a positive number, got ${p.range}`);
  if (!(Number.isInteger(p.cohort) && p.cohort >= 1)) throw new Error(`the cohort must be a positive integer, got ${p.cohort}`);
  const levels = Math.floor((2 ** p.bits - 1) / p.cohort);
  if (levels < 2) {
    const least = smallestBits(p.cohort);
    if (least > 32) throw new Error(`no ring of up to 32 bits holds a sum of ${p.cohort} values: the cohort is too large for SecAgg+`);
    throw new Error(`secaggplus.bits ${p.bits} cannot hold the sum of ${p.cohort} clients' values without wrapping (each needs 2 levels or more): the smallest that works for this cohort is ${least}`);
  }
  return levels;
}

/** Randomness for stochastic rounding is drawn in blocks of this many values (4 bytes each) from the CSPRNG. */
const RANDOM_BLOCK = 16_384;

/**
 * Encodes `values x scale` (a client's weight times its update). Stochastic rounding is unbiased: E[q] equals
 * the exact level, so the dequantized sum is an unbiased estimate of the true sum; its coins come from
 * node:crypto's CSPRNG (a predictable rounding would leak the fractional parts).
 */
export function quantize(values: Float32Array, scale: number, p: QuantizationParameters): Quantized {
  const levels = quantizationLevels(p);
  const step = levels / (2 * p.range);
  const out = new Uint32Array(values.length);
  let clipped = 0;
  let coins = new Uint32Array(0);
  for (let i = 0; i < values.length; i++) {
    const j = i % RANDOM_BLOCK;
    if (j === 0) coins = new Uint32Array(randomBytes(4 * Math.min(RANDOM_BLOCK, values.length - i)).buffer);
    let x = values[i]! * scale;
    if (x > p.range) (x = p.range), clipped++;
    else if (x < -p.range) (x = -p.range), clipped++;
    else if (Number.isNaN(x)) throw new Error(`the update has a NaN at ${i}: it cannot be aggregated`);
    const y = (x + p.range) * step;
    const floor = Math.floor(y);
    const up = coins[j]! < (y - floor) * 4_294_967_296 ? 1 : 0;
    out[i] = Math.min(levels, floor + up);
  }
  return { values: out, clipped };
}

/**
 * Decodes a sum of `count` encodings (already unmasked, reduced mod 2^bits) back to the sum of the scaled
 * values, in float64: sum / step - count x range.
 */
export function dequantizeSum(sum: Uint32Array, count: number, p: QuantizationParameters): Float64Array {
  const levels = quantizationLevels(p);
  const step = levels / (2 * p.range);
  const out = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = sum[i]! / step - count * p.range;
  return out;
}
