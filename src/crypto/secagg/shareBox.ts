import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { transcript } from '../transcript.js';
import { x25519Agree } from './x25519.js';

/** Where an encrypted share travels: bound into both the key and the AEAD's associated data. */
export interface ShareRoute {
  readonly runId: string;
  readonly round: number;
  readonly sender: string;
  readonly recipient: string;
}

export interface SealedShare {
  /** 12-byte GCM nonce, fresh from the CSPRNG. */
  readonly nonce: Uint8Array;
  /** Ciphertext followed by the 16-byte GCM tag. */
  readonly ciphertext: Uint8Array;
}

const TAG_BYTES = 16;

function routeBytes(route: ShareRoute): Uint8Array {
  return transcript('cohort-secaggplus-share-v1', [route.runId, route.round, route.sender, route.recipient]);
}

/** AES-256 key of the route: HKDF-SHA256 of the X25519 agreement between the sender's and recipient's encryption keys. */
function routeKey(secretKey: Uint8Array, peerPublicKey: Uint8Array, route: ShareRoute): Buffer {
  const shared = x25519Agree(secretKey, peerPublicKey);
  const key = Buffer.from(hkdfSync('sha256', shared, new Uint8Array(0), routeBytes(route), 32));
  shared.fill(0);
  return key;
}

/**
 * Encrypts and authenticates a sender's shares for one recipient (AES-256-GCM): the coordinator relays the box
 * but cannot read it, and cannot replay it to another recipient, round or run (the AAD would not match).
 */
export function sealShare(plaintext: Uint8Array, senderSecretKey: Uint8Array, recipientPublicKey: Uint8Array, route: ShareRoute): SealedShare {
  const key = routeKey(senderSecretKey, recipientPublicKey, route);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(routeBytes(route));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  key.fill(0);
  return { nonce: new Uint8Array(nonce), ciphertext: new Uint8Array(body) };
}

/** Opens a box addressed to us; throws when it was altered, or sealed for another route or by another key. */
export function openShare(sealed: SealedShare, recipientSecretKey: Uint8Array, senderPublicKey: Uint8Array, route: ShareRoute): Uint8Array {
  if (sealed.nonce.length !== 12 || sealed.ciphertext.length < TAG_BYTES) throw new Error(`the share box from ${route.sender} is malformed`);
  const key = routeKey(recipientSecretKey, senderPublicKey, route);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
  decipher.setAAD(routeBytes(route));
  decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES)), decipher.final()]));
  } catch {
    throw new Error(`the share box from ${route.sender} to ${route.recipient} for round ${route.round} does not authenticate`);
  } finally {
    key.fill(0);
  }
}
