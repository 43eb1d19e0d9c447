import { sign, verify, type Identity } from '../identity.js';
import { transcript } from '../transcript.js';

/** What a client signs so its round keys cannot be swapped by the coordinator or replayed in another round or run. */
export function roundKeysMessage(runId: string, round: number, name: string, encryptionKey: Uint8Array, maskKey: Uint8Array): Uint8Array {
  return transcript('cohort-secaggplus-round-keys-v1', [runId, round, name, encryptionKey, maskKey]);
}

export function signRoundKeys(identity: Identity, runId: string, round: number, name: string, encryptionKey: Uint8Array, maskKey: Uint8Array): Uint8Array {
  return sign(roundKeysMessage(runId, round, name, encryptionKey, maskKey), identity.secretKey);
}

export function verifyRoundKeys(identityKey: Uint8Array, signature: Uint8Array, runId: string, round: number, name: string, encryptionKey: Uint8Array, maskKey: Uint8Array): boolean {
  return verify(roundKeysMessage(runId, round, name, encryptionKey, maskKey), signature, identityKey);
}

/**
 * The consistency round (Bonawitz et al. 2017, the active-adversary variant): each survivor signs the survivor
 * set it was told; a client reveals shares only when every signature it is shown is over the same set.
 */
export function survivorsMessage(runId: string, round: number, survivors: readonly string[]): Uint8Array {
  return transcript('cohort-secaggplus-survivors-v1', [runId, round, ...[...survivors].sort()]);
}

export function signSurvivors(identity: Identity, runId: string, round: number, survivors: readonly string[]): Uint8Array {
  return sign(survivorsMessage(runId, round, survivors), identity.secretKey);
}

export function verifySurvivors(identityKey: Uint8Array, signature: Uint8Array, runId: string, round: number, survivors: readonly string[]): boolean {
  return verify(survivorsMessage(runId, round, survivors), signature, identityKey);
}
