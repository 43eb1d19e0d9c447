import { CkksError } from './ckksError.js';

/** How serialized keys and ciphertexts are compressed (SEAL's `compr_mode_type`). */
export type CkksCompression = 'zstd' | 'zlib' | 'none';

/**
 * CKKS parameters for secure summation (the README's "Secure aggregation: CKKS"). Summing ciphertexts needs
 * no multiplication, hence no rescaling and no key switching: one coefficient prime is enough, and the
 * ring can be the smallest one that gives 128-bit security for it.
 */
export interface CkksParameters {
  /** Ring dimension N, a power of two; one ciphertext carries N values (coefficientEncoding.ts). */
  readonly polyModulusDegree: number;
  /** Bit sizes of the coefficient primes; their product q bounds what a sum can hold. */
  readonly coeffModulusBits: readonly number[];
  /** log2 of the CKKS scale: a value x is encoded as round(x * 2^scaleBits), so resolution is 2^-scaleBits. */
  readonly scaleBits: number;
  /**
   * Most updates one sum may hold. The headroom of q is split between them: each client clips its weighted
   * values to (q/2 / scale) / maxContributors (at most what SEAL encodes in one update, about 2^18 for the
   * defaults), and the coordinator refuses more contributors than this.
   */
  readonly maxContributors: number;
  readonly compression: CkksCompression;
}

/**
 * N = 4096 with one 60-bit prime (SEAL allows 109 bits at this N for 128-bit security) and a scale of
 * 2^40: 4096 values a ciphertext, about 8 bytes a value once seeded, and |sum| up to about 2^19.
 */
export const DEFAULT_CKKS_PARAMETERS: CkksParameters = {
  polyModulusDegree: 4096,
  coeffModulusBits: [60],
  scaleBits: 40,
  maxContributors: 100,
  compression: 'zstd',
};

/** SEAL's own limit on one user-chosen prime (`SEAL_USER_MOD_BIT_COUNT_MAX`). */
const MAX_PRIME_BITS = 60;

/** Checks the parts of the parameters that need no SEAL; security and prime search are checked in CkksContext. */
export function checkCkksParameters(p: CkksParameters): void {
  const n = p.polyModulusDegree;
  if (!Number.isInteger(n) || n < 1024 || n > 32768 || (n & (n - 1)) !== 0) {
    throw new CkksError(`polyModulusDegree must be a power of two from 1024 to 32768, got ${n}`);
  }
  if (p.coeffModulusBits.length === 0) throw new CkksError('coeffModulusBits needs at least one prime');
  for (const bits of p.coeffModulusBits) {
    if (!Number.isInteger(bits) || bits < 20 || bits > MAX_PRIME_BITS) {
      throw new CkksError(`each coefficient prime must have 20 to ${MAX_PRIME_BITS} bits, got ${bits}`);
    }
  }
  if (!Number.isInteger(p.scaleBits) || p.scaleBits < 20) throw new CkksError(`scaleBits must be an integer >= 20, got ${p.scaleBits}`);
  const dataBits = dataLevelBits(p.coeffModulusBits);
  // At least one bit of headroom above the scale (plus the sign bit), or no sum can be decoded.
  if (p.scaleBits > dataBits - 2) {
    throw new CkksError(`scaleBits ${p.scaleBits} leaves no headroom under a ${dataBits}-bit coefficient modulus (need scaleBits <= ${dataBits - 2})`);
  }
  if (!Number.isSafeInteger(p.maxContributors) || p.maxContributors < 1) {
    throw new CkksError(`maxContributors must be a positive integer, got ${p.maxContributors}`);
  }
  if (p.compression !== 'zstd' && p.compression !== 'zlib' && p.compression !== 'none') {
    throw new CkksError(`compression must be zstd, zlib or none, got ${String(p.compression)}`);
  }
}

/**
 * Bits of the modulus that ciphertexts live under. With more than one prime SEAL keeps the last one as
 * the key-switching "special" prime, which data never uses.
 */
export function dataLevelBits(coeffModulusBits: readonly number[]): number {
  const primes = coeffModulusBits.length > 1 ? coeffModulusBits.slice(0, -1) : coeffModulusBits;
  return primes.reduce((a, b) => a + b, 0);
}
