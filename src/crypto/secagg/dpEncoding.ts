import { randomBytes } from 'node:crypto';

/**
 * Integer encoding for distributed DP under SecAgg+ (Kairouz, Liu, Steinke 2021, "The Distributed Discrete
 * Gaussian Mechanism for Federated Learning with Secure Aggregation"): the clipped update is scaled so the clip
 * norm C spans GRID_UNITS steps, rounded by conditional randomized rounding (rounded again until its L2 norm is
 * within the bound below), so every client's integer vector has norm at most `sensitivity` whatever the coins:
 * that bound, not C, is the sensitivity the noise is calibrated to. Integers travel in Z_(2^32) as two's
 * complement; the sum decodes as signed 32-bit (it stays far inside +-2^31 for any cohort of up to
 * DP_MAX_COHORT, which the coordinator enforces).
 */
export const GRID_UNITS = 2 ** 16;

/**
 * Most clients one distributed-DP round may hold: each contributes at most about GRID_UNITS per value, so 10,000
 * of them reach 2^29.3, which leaves the noise (z x sensitivity, 6 sigma about 2^22 for z = 10) far inside
 * +-2^31. Beyond it the sum could wrap, which the accounting does not charge for (modular clipping).
 */
export const DP_MAX_COHORT = 10_000;

/** Why a distributed-DP round of `cohort` clients cannot run, or undefined when it can. */
export function dpCohortRefusal(cohort: number): string | undefined {
  if (cohort <= DP_MAX_COHORT) return undefined;
  return `a distributed-DP SecAgg+ round holds at most ${DP_MAX_COHORT.toLocaleString('en')} clients (their 32-bit sum could wrap beyond it, which the privacy accounting does not cover); this round selected ${cohort.toLocaleString('en')}: lower fractionFit or minFitClients`;
}

/** The probability bound beta of KLS21's rounding lemma: the chance one rounding must be redone. */
const BETA = Math.exp(-0.5);

export interface DpEncoding {
  /** Grid steps per unit of the update. */
  readonly scale: number;
  /** L2 norm of any encoded update, in grid steps (C x scale, plus the rounding's inflation). */
  readonly sensitivity: number;
}

/** The encoding for clip norm C over `dimension` values. */
export function dpEncoding(clipNorm: number, dimension: number): DpEncoding {
  if (!(clipNorm > 0 && Number.isFinite(clipNorm))) throw new Error(`the clip norm must be positive, got ${clipNorm}`);
  const c = GRID_UNITS;
  const d = dimension;
  // KLS21 Lemma 8 / section 4.1: ||R(x)||^2 <= c^2 + d/4 + sqrt(2 ln(1/beta)) (c + sqrt(d)/2) with probability
  // >= 1 - beta; and always ||R(x)|| <= c + sqrt(d) (each value moves by less than one step).
  const bound2 = Math.min((c + Math.sqrt(d)) ** 2, c * c + d / 4 + Math.sqrt(2 * Math.log(1 / BETA)) * (c + Math.sqrt(d) / 2));
  return { scale: c / clipNorm, sensitivity: Math.sqrt(bound2) };
}

/** Values drawn at a time for rounding coins. */
const COIN_BLOCK = 16_384;

/**
 * Clips `values` to L2 norm C (= GRID_UNITS / scale), scales them onto the grid and rounds each up with
 * probability its fractional part (coins from the CSPRNG), again until the rounded vector's norm is within the
 * sensitivity. Returns the integers in Z_(2^32) (two's complement).
 */
export function conditionalRound(values: Float32Array, encoding: DpEncoding): { readonly encoded: Uint32Array; readonly tries: number; readonly clipped: boolean } {
  let norm2 = 0;
  for (const v of values) norm2 += v * v;
  if (!Number.isFinite(norm2)) throw new Error('the update has a non-finite value: it cannot be encoded');
  const norm = Math.sqrt(norm2) * encoding.scale;
  const shrink = norm > GRID_UNITS ? GRID_UNITS / norm : 1;
  const factor = encoding.scale * shrink;
  const bound2 = encoding.sensitivity ** 2;
  const out = new Uint32Array(values.length);
  for (let tries = 1; tries <= 1000; tries++) {
    let rounded2 = 0;
    let coins = new Uint32Array(0);
    for (let i = 0; i < values.length; i++) {
      const j = i % COIN_BLOCK;
      if (j === 0) coins = new Uint32Array(randomBytes(4 * Math.min(COIN_BLOCK, values.length - i)).buffer);
      const y = values[i]! * factor;
      const floor = Math.floor(y);
      const q = floor + (coins[j]! < (y - floor) * 4_294_967_296 ? 1 : 0);
      rounded2 += q * q;
      out[i] = q >>> 0;
    }
    if (rounded2 <= bound2) return { encoded: out, tries, clipped: shrink < 1 };
  }
  throw new Error('conditional rounding failed 1000 times: the bound is wrong');
}

/** The signed integer sum from its residue mod 2^32. */
export function signedSum(sum: Uint32Array): Int32Array {
  return new Int32Array(sum.buffer, sum.byteOffset, sum.length).slice();
}
