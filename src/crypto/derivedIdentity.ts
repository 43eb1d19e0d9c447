import { createPrivateKey, hkdfSync } from 'node:crypto';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SECRET_KEY_BYTES, ED25519_SEED_BYTES, rawPublicKey } from './ed25519KeyObjects.js';
import type { Identity } from './identity.js';

// RFC 8410 PKCS#8 wrapping of a raw 32-byte Ed25519 seed, so that node:crypto derives its public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Domain separation: these keys can never collide with keys derived for another purpose from the same secret. */
const SALT = Buffer.from('cohort/derived-identity/v1', 'utf8');

/**
 * An Ed25519 identity derived from a shared secret and a label (HKDF-SHA256, RFC 5869, then RFC 8032 key
 * generation from the 32-byte output): whoever holds `secret` derives the same key pair for the same label,
 * and nobody without it can. Labels name what a key is for (a virtual client, bound to its experiment).
 */
export function deriveIdentity(secret: Uint8Array, label: string): Identity {
  if (secret.length < ED25519_SEED_BYTES) throw new RangeError(`a derivation secret needs at least ${ED25519_SEED_BYTES} bytes, got ${secret.length}`);
  const seed = Buffer.from(hkdfSync('sha256', secret, SALT, Buffer.from(label, 'utf8'), ED25519_SEED_BYTES));
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(privateKey);
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) throw new Error(`node:crypto derived a public key of ${publicKey.length} bytes`);
  const secretKey = new Uint8Array(ED25519_SECRET_KEY_BYTES);
  secretKey.set(seed, 0);
  secretKey.set(publicKey, ED25519_SEED_BYTES);
  seed.fill(0);
  return { publicKey, secretKey };
}
