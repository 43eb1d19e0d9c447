import { createHash, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SECRET_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  privateKeyObject,
  publicKeyObject,
} from './ed25519KeyObjects.js';
import { decodeBase64Key, KeyError } from './keyEncoding.js';

export { ED25519_PUBLIC_KEY_BYTES, ED25519_SECRET_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES };

/**
 * A node's Ed25519 identity in tweetnacl's format (`nacl.sign.keyPair()`): a 32-byte public key and a
 * 64-byte secret key that is the 32-byte seed followed by the public key. Signing and verifying run on
 * node:crypto (OpenSSL), tens of times faster than tweetnacl (bench/signatures.ts); Ed25519 is deterministic (RFC 8032), so the
 * signatures are byte for byte those of `nacl.sign.detached`.
 */
export interface Identity {
  /** The 32-byte public key: what peers pin. */
  readonly publicKey: Uint8Array;
  /** The 64-byte secret key (seed and public key); never leaves the node. */
  readonly secretKey: Uint8Array;
}

/** A fresh identity from node:crypto's CSPRNG (OpenSSL's key generation). */
export function generateIdentity(): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  if (seed.length !== ED25519_SEED_BYTES || pub.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new Error(`node:crypto exported an Ed25519 key of ${seed.length}+${pub.length} bytes, expected 32+32`);
  }
  const secretKey = new Uint8Array(ED25519_SECRET_KEY_BYTES);
  secretKey.set(seed, 0);
  secretKey.set(pub, ED25519_SEED_BYTES);
  seed.fill(0);
  return { publicKey: new Uint8Array(pub), secretKey };
}

/** Checks a 64-byte secret key (length, and that its second half is its seed's public key) and returns its identity (copies). */
export function identityFromSecretKey(secretKey: Uint8Array, what = 'Ed25519 secret key'): Identity {
  const copy = new Uint8Array(secretKey);
  privateKeyObject(copy, what);
  return { publicKey: copy.slice(ED25519_SEED_BYTES), secretKey: copy };
}

/** Decodes and checks a base64 secret key (88 characters); errors name `what`. */
export function identityFromBase64(text: string, what = 'Ed25519 secret key'): Identity {
  return identityFromSecretKey(decodeBase64Key(text, ED25519_SECRET_KEY_BYTES, what), what);
}

/** Decodes a base64 public key (44 characters); errors name `what` ("public key of client north"). */
export function publicKeyFromBase64(text: string, what = 'Ed25519 public key'): Uint8Array {
  return decodeBase64Key(text, ED25519_PUBLIC_KEY_BYTES, what);
}

/** A detached 64-byte signature, identical to `nacl.sign.detached(message, secretKey)`. Throws KeyError for a bad key. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return new Uint8Array(cryptoSign(null, message, privateKeyObject(secretKey)));
}

/**
 * True when `signature` is `publicKey`'s signature of `message`. Never throws: wrong lengths, non-byte
 * inputs and unparsable keys are false. Stricter than tweetnacl in one way that only affects forgeries:
 * OpenSSL refuses a signature whose scalar S is not reduced below the group order (RFC 8032 section 5.1.7),
 * which tweetnacl accepts, so a signature cannot be re-encoded into a second valid one.
 */
export function verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  if (signature.length !== ED25519_SIGNATURE_BYTES || publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  try {
    return cryptoVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/** A short name for a public key in logs and prompts: the first 16 hex digits (64 bits) of its SHA-256. */
export function keyFingerprint(publicKey: Uint8Array): string {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new KeyError(`fingerprint: expected a ${ED25519_PUBLIC_KEY_BYTES}-byte public key, got ${publicKey.length} bytes`);
  }
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}
