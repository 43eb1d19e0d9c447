import { combine, split } from 'shamir-secret-sharing';

/**
 * Shamir's secret sharing (threshold t of n) through the audited `shamir-secret-sharing` package (GF(2^8),
 * byte-wise; a share is the secret's length plus one byte, its x-coordinate, last). Fewer than t shares reveal
 * nothing of the secret; combining fewer yields garbage, not an error, so callers check the count.
 */
export async function shareSecret(secret: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  if (!(Number.isInteger(threshold) && threshold >= 2)) throw new Error(`a Shamir threshold must be an integer of at least 2, got ${threshold}`);
  if (!(Number.isInteger(shares) && shares >= threshold && shares <= 255)) throw new Error(`Shamir shares must number from the threshold ${threshold} to 255, got ${shares}`);
  return split(secret, shares, threshold);
}

/** Reconstructs a secret from at least `threshold` shares of `secretBytes` bytes each, with distinct x-coordinates. */
export async function recoverSecret(shares: readonly Uint8Array[], threshold: number, secretBytes: number): Promise<Uint8Array> {
  if (shares.length < threshold) throw new Error(`${shares.length} shares cannot reconstruct a secret shared with threshold ${threshold}`);
  const xs = new Set<number>();
  for (const s of shares) {
    if (s.length !== secretBytes + 1) throw new Error(`a share of a ${secretBytes}-byte secret is ${secretBytes + 1} bytes, got ${s.length}`);
    xs.add(s[secretBytes]!);
  }
  if (xs.size !== shares.length) throw new Error('two shares carry the same x-coordinate');
  // Exactly t shares: more add nothing (and the package takes at most 255).
  return combine(shares.slice(0, threshold) as Uint8Array[]);
}
