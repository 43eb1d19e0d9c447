import { randomInt } from 'node:crypto';
import { recoverSecret } from './shamir.js';

/** A Shamir share and who handed it over (a neighbour revealing it). */
export interface HeldShare {
  readonly holder: string;
  readonly share: Uint8Array;
}

export interface CheckedRecovery {
  readonly secret: Uint8Array;
  /** Holders whose share lies off the polynomial of the checked secret: they revealed a false share. */
  readonly falseHolders: string[];
}

/** Random t-subsets tried before giving up: with s shares, b of them false, each succeeds with C(s-b, t) / C(s, t). */
const SUBSET_TRIES = 200;

function randomSubset(count: number, size: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, size);
}

/**
 * Shamir reconstruction for a secret its owner committed to (`isSecret`: a hash commitment, a public key). The
 * first t shares usually give it. When they do not, some holder lied: t-subsets drawn at random are tried until
 * one reconstructs the committed secret (t true points fix the polynomial), and every other share is tested by
 * swapping it into that subset, so each false one is named. Undefined when no tried subset gives the secret.
 * Recombination only, through the audited package; no decoding of our own.
 */
export async function recoverChecked(shares: readonly HeldShare[], threshold: number, secretBytes: number, isSecret: (secret: Uint8Array) => boolean): Promise<CheckedRecovery | undefined> {
  const first = await recoverSecret(shares.slice(0, threshold).map((s) => s.share), threshold, secretBytes);
  if (isSecret(first)) return { secret: first, falseHolders: [] };
  first.fill(0);
  if (shares.length === threshold) return undefined;
  for (let attempt = 0; attempt < SUBSET_TRIES; attempt++) {
    const chosen = randomSubset(shares.length, threshold);
    const secret = await recoverSecret(chosen.map((i) => shares[i]!.share), threshold, secretBytes);
    if (!isSecret(secret)) {
      secret.fill(0);
      continue;
    }
    const inSubset = new Set(chosen);
    const base = chosen.slice(1).map((i) => shares[i]!.share);
    const falseHolders: string[] = [];
    for (let j = 0; j < shares.length; j++) {
      if (inSubset.has(j)) continue;
      const probe = await recoverSecret([...base, shares[j]!.share], threshold, secretBytes);
      if (!isSecret(probe)) falseHolders.push(shares[j]!.holder);
      probe.fill(0);
    }
    return { secret, falseHolders };
  }
  return undefined;
}
