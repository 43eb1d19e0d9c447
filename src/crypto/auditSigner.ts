import { generateIdentity, identityFromSecretKey, keyFingerprint, sign, verify } from './identity.js';

/**
 * The audit log's seams for signing. Injected so the log does not depend on how a node stores its identity;
 * the defaults are the node identity's own Ed25519 (identity.ts).
 */
export interface AuditSigner {
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Detached 64-byte Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** True when `signature` is `publicKey`'s Ed25519 signature of `message`; must return false (not throw) for malformed input. */
export type AuditVerify = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean;

/** A signer from a 64-byte tweetnacl-format secret key (seed || public key), checked for consistency. */
export function ed25519AuditSigner(secretKey: Uint8Array): AuditSigner {
  const identity = identityFromSecretKey(secretKey, 'audit signing key');
  return { publicKey: identity.publicKey, sign: (message) => sign(message, identity.secretKey) };
}

/** A signer with a fresh random key (tests, throwaway logs). */
export function generateAuditSigner(): AuditSigner {
  return ed25519AuditSigner(generateIdentity().secretKey);
}

/** Ed25519 verification (identity.ts); false for any malformed input. */
export const ed25519Verify: AuditVerify = verify;

/** A short name for a public key in messages (identity.ts's fingerprint). */
export const auditKeyFingerprint = keyFingerprint;
