import { createHash } from 'node:crypto';
import type { EncryptedLayout } from '../../protocol/encryptedLayout.js';

/**
 * What a CKKS run checkpoints: the encrypted sum of the last round's weighted states and the weights' total.
 * Only clients holding the run's key can turn it into a model; the store never sees one.
 */
export interface EncryptedCheckpoint {
  /** The serialized CKKS ciphertexts of the weighted sum. */
  readonly ciphertexts: readonly Uint8Array[];
  /** The sum of the weights, which clients divide by after decrypting. */
  readonly totalWeight: number;
  /** How the model's values are packed into the ciphertexts. */
  readonly layout: EncryptedLayout;
  /** SHA-256 of the ciphertexts, checked when read. */
  readonly sha256: string;
}

/** SHA-256 over the ciphertexts in order: the hash the round records and the audit log name. */
export function encryptedCheckpointHash(ciphertexts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const c of ciphertexts) hash.update(c);
  return hash.digest('hex');
}
