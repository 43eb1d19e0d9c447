import { createHash } from 'node:crypto';
import type { EncryptedLayout } from '../../protocol/encryptedLayout.js';

/**
 * What a CKKS run checkpoints: the encrypted sum of the last round's weighted states and the weights' total.
 * Only clients holding the run's key can turn it into a model; the store never sees one.
 */
export interface EncryptedCheckpoint {
  readonly ciphertexts: readonly Uint8Array[];
  readonly totalWeight: number;
  readonly layout: EncryptedLayout;
  readonly sha256: string;
}

/** SHA-256 over the ciphertexts in order: the hash the round records and the audit log name. */
export function encryptedCheckpointHash(ciphertexts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const c of ciphertexts) hash.update(c);
  return hash.digest('hex');
}
