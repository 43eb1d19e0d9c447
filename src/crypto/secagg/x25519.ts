import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** X25519 keys travel and are Shamir-shared as their raw 32 bytes (RFC 7748). */
export const X25519_KEY_BYTES = 32;

// The fixed DER headers around a raw X25519 key (RFC 8410): node:crypto imports raw keys through them.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** A fresh key pair from node:crypto (OpenSSL's CSPRNG). */
export function generateX25519(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const secret = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  return { publicKey: new Uint8Array(pub), secretKey: new Uint8Array(secret) };
}

function privateKeyOf(raw: Uint8Array): KeyObject {
  if (raw.length !== X25519_KEY_BYTES) throw new Error(`an X25519 secret key is ${X25519_KEY_BYTES} bytes, got ${raw.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

function publicKeyOf(raw: Uint8Array): KeyObject {
  if (raw.length !== X25519_KEY_BYTES) throw new Error(`an X25519 public key is ${X25519_KEY_BYTES} bytes, got ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The public key of a raw secret key (to check a reconstructed secret against the key its owner signed). */
export function x25519PublicOf(secretKey: Uint8Array): Uint8Array {
  return new Uint8Array(createPublicKey(privateKeyOf(secretKey)).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

/**
 * The X25519 shared secret of our secret key and a peer's public key. OpenSSL refuses an all-zero result (a
 * low-order peer key), so a hostile peer cannot force a known secret.
 */
export function x25519Agree(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  return new Uint8Array(diffieHellman({ privateKey: privateKeyOf(secretKey), publicKey: publicKeyOf(peerPublicKey) }));
}
