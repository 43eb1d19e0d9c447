import { createHash, createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';

/**
 * The audit log's seams for signing. Injected so the log does not depend on how a node stores its identity;
 * any Ed25519 implementation fits (tweetnacl's `nacl.sign.detached` included: Ed25519 is deterministic,
 * RFC 8032, so every implementation gives the same signature bytes).
 */
export interface AuditSigner {
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Detached 64-byte Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** True when `signature` is `publicKey`'s Ed25519 signature of `message`; must return false (not throw) for malformed input. */
export type AuditVerify = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean;

const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
// DER framing that turns raw Ed25519 keys into the PKCS#8 and SPKI documents node:crypto imports (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * A signer on node:crypto from a 32-byte seed or a 64-byte tweetnacl secret key (seed || public key).
 * For the 64-byte form the second half must be the seed's public key, so a mismatched pair cannot sign
 * entries that claim a key they do not verify under.
 */
export function ed25519AuditSigner(secretKey: Uint8Array): AuditSigner {
  if (secretKey.length !== SEED_BYTES && secretKey.length !== SEED_BYTES + PUBLIC_KEY_BYTES) {
    throw new RangeError(`Ed25519 secret key: expected 32 (seed) or 64 (tweetnacl) bytes, got ${secretKey.length}`);
  }
  const seed = secretKey.subarray(0, SEED_BYTES);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  if (secretKey.length > SEED_BYTES && !Buffer.from(secretKey.subarray(SEED_BYTES)).equals(publicKey)) {
    throw new RangeError('Ed25519 secret key: its second half is not the public key of its seed');
  }
  return {
    publicKey,
    sign: (message) => new Uint8Array(cryptoSign(null, message, privateKey)),
  };
}

/** A signer with a fresh random key (tests, throwaway logs). */
export function generateAuditSigner(): AuditSigner {
  return ed25519AuditSigner(randomBytes(SEED_BYTES));
}

// A log has one signer, so remembering the last imported key saves an import per entry.
let lastKey: { raw: Buffer; key: KeyObject } | undefined;

/** Ed25519 verification on node:crypto from a raw 32-byte public key; false for any malformed input. */
export const ed25519Verify: AuditVerify = (message, signature, publicKey) => {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    const raw = Buffer.from(publicKey);
    if (!lastKey?.raw.equals(raw)) {
      lastKey = { raw, key: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' }) };
    }
    return cryptoVerify(null, message, lastKey.key, signature);
  } catch {
    return false;
  }
};

/** A short name for a public key in messages: the first 16 hex digits (64 bits) of its SHA-256. */
export function auditKeyFingerprint(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}
