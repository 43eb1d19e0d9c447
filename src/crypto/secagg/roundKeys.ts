import { sign, verify, type Identity } from '../identity.js';
import { transcript } from '../transcript.js';

/** What a client signs so its round keys cannot be swapped by the coordinator or replayed in another round or run. */
export interface RoundKeys {
  readonly runId: string;
  readonly round: number;
  readonly name: string;
  /** X25519 key the share boxes addressed to this client are sealed to. */
  readonly encryptionKey: Uint8Array;
  /** X25519 key the pairwise masks are agreed with (its secret is Shamir-shared for dropout recovery). */
  readonly maskKey: Uint8Array;
  /** SHA-256 of the self-mask seed: lets the coordinator check a reconstructed seed. */
  readonly selfMaskCommitment: Uint8Array;
}

export function roundKeysMessage(k: RoundKeys): Uint8Array {
  return transcript('cohort-secaggplus-round-keys-v1', [k.runId, k.round, k.name, k.encryptionKey, k.maskKey, k.selfMaskCommitment]);
}

export function signRoundKeys(identity: Identity, keys: RoundKeys): Uint8Array {
  return sign(roundKeysMessage(keys), identity.secretKey);
}

export function verifyRoundKeys(identityKey: Uint8Array, signature: Uint8Array, keys: RoundKeys): boolean {
  return verify(roundKeysMessage(keys), signature, identityKey);
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
