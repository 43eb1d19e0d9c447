import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { KeyError } from './keyEncoding.js';

// Ed25519 sizes in tweetnacl's format (RFC 8032): the secret key is the 32-byte seed followed by the public key.
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_SECRET_KEY_BYTES = 64;
export const ED25519_SIGNATURE_BYTES = 64;

// DER headers that wrap a raw key for node:crypto (RFC 8410): PKCS#8 for the seed, SPKI for the public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Public keys kept parsed; a federation has tens to thousands of peers, so this bound is rarely reached. */
export const PUBLIC_KEY_CACHE_SIZE = 4096;

const publicKeys = new Map<string, KeyObject>();

// Secret keys are cached by the array that holds them, not by their text: no copy of a secret sits in a
// global string table, and an entry goes away with its identity. The stored copy catches an array that
// was overwritten in place since it was cached.
const privateKeys = new WeakMap<Uint8Array, { readonly bytes: Buffer; readonly key: KeyObject }>();

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The raw 32-byte public key of a node:crypto Ed25519 key (the last 32 bytes of its SPKI encoding). */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/** Parses a 32-byte public key; callers check the length first. Least recently used keys are dropped past the bound. */
export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = bufferOf(publicKey).toString('base64');
  const cached = publicKeys.get(id);
  if (cached) {
    publicKeys.delete(id);
    publicKeys.set(id, cached);
    return cached;
  }
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bufferOf(publicKey)]), format: 'der', type: 'spki' });
  publicKeys.set(id, key);
  if (publicKeys.size > PUBLIC_KEY_CACHE_SIZE) {
    const oldest = publicKeys.keys().next();
    if (!oldest.done) publicKeys.delete(oldest.value);
  }
  return key;
}

/**
 * Parses a 64-byte tweetnacl secret key, refusing one whose second half is not the public key of its seed:
 * tweetnacl would sign with the stored half and produce signatures that never verify, node:crypto would
 * derive the right one; either way such a key is corrupt or hand-edited. `what` names the key in errors.
 */
export function privateKeyObject(secretKey: Uint8Array, what = 'Ed25519 secret key'): KeyObject {
  if (secretKey.length !== ED25519_SECRET_KEY_BYTES) {
    throw new KeyError(`${what}: expected ${ED25519_SECRET_KEY_BYTES} bytes (seed then public key), got ${secretKey.length}`);
  }
  const bytes = bufferOf(secretKey);
  const cached = privateKeys.get(secretKey);
  if (cached && cached.bytes.equals(bytes)) return cached.key;
  const seed = bytes.subarray(0, ED25519_SEED_BYTES);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  if (!bufferOf(rawPublicKey(key)).equals(bytes.subarray(ED25519_SEED_BYTES))) {
    throw new KeyError(`${what} is inconsistent: its last 32 bytes are not the public key of its 32-byte seed (corrupt or edited key?)`);
  }
  privateKeys.set(secretKey, { bytes: Buffer.from(bytes), key });
  return key;
}

/** Entries in the public-key cache (for tests of its bound). */
export function publicKeyCacheSize(): number {
  return publicKeys.size;
}
