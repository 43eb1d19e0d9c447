import { hkdfSync } from 'node:crypto';
import { transcript } from '../transcript.js';
import { MASK_SEED_BYTES } from './maskStream.js';
import { x25519Agree } from './x25519.js';

/** Who a pairwise mask is between, and when: the HKDF info binds all of it, so no seed serves two rounds or pairs. */
export interface PairContext {
  readonly runId: string;
  readonly round: number;
  /** The two clients' names; the order given does not matter (the info sorts them). */
  readonly a: string;
  readonly b: string;
}

/** Which way a pairwise mask goes: the client whose name sorts first adds it, the other subtracts it. */
export function pairSign(me: string, peer: string): 1 | -1 {
  if (me === peer) throw new Error(`a client has no pairwise mask with itself (${me})`);
  return me < peer ? 1 : -1;
}

/**
 * The seed of the mask between two clients: HKDF-SHA256 (RFC 5869) of their X25519 agreement, with the run,
 * round and ordered pair in the info. Both ends compute the same seed; so does the coordinator from a dropped
 * client's reconstructed mask key and a survivor's public key.
 */
export function pairwiseMaskSeed(secretKey: Uint8Array, peerPublicKey: Uint8Array, pair: PairContext): Uint8Array {
  const shared = x25519Agree(secretKey, peerPublicKey);
  const [first, second] = pair.a < pair.b ? [pair.a, pair.b] : [pair.b, pair.a];
  const info = transcript('cohort-secaggplus-pairwise-mask-v1', [pair.runId, pair.round, first, second]);
  const seed = new Uint8Array(hkdfSync('sha256', shared, new Uint8Array(0), info, MASK_SEED_BYTES));
  shared.fill(0);
  return seed;
}
