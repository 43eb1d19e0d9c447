import { DEFAULT_CKKS_PARAMETERS, type CkksParameters } from './ckksParameters.js';

/** Primes that ciphertexts live under (SEAL keeps the last of several as the key-switching prime). */
function dataPrimeCount(p: CkksParameters): number {
  return p.coeffModulusBits.length > 1 ? p.coeffModulusBits.length - 1 : 1;
}

/**
 * Largest frame a well-formed ciphertext of these parameters can need, compressed or not: two polynomials of
 * N 64-bit words per data prime, plus SEAL's header and compression's worst case. Needs no SEAL, so limits
 * can be set before the context exists.
 */
export function maxCiphertextBytes(p: CkksParameters = DEFAULT_CKKS_PARAMETERS): number {
  const raw = 2 * p.polyModulusDegree * dataPrimeCount(p) * 8;
  return raw + Math.ceil(raw / 64) + 4096;
}

/**
 * Upper bound on the framed stream (frames.ts) that carries `values` encrypted values: an upload or a sum.
 * Transfer limits under CKKS come from this, not from the plaintext size (about 16 bytes a value, not 4).
 */
export function maxEncryptedStreamBytes(values: number, p: CkksParameters = DEFAULT_CKKS_PARAMETERS): number {
  const ciphertexts = Math.ceil(values / p.polyModulusDegree);
  return 4 + ciphertexts * (4 + maxCiphertextBytes(p));
}


