import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, sign, verify, type Identity } from './identity.js';
import { KeyError } from './keyEncoding.js';

/** X25519 key sizes as `nacl.box` uses them. */
export const AGREEMENT_PUBLIC_KEY_BYTES = nacl.box.publicKeyLength;
export const AGREEMENT_SECRET_KEY_BYTES = nacl.box.secretKeyLength;

/** Domain separation: an identity signature over these bytes can never be mistaken for any other Cohort signature. */
export const AGREEMENT_KEY_DOMAIN = 'cohort-agreement-key-v1';

/** An X25519 key pair for `nacl.box` (key agreement + XSalsa20-Poly1305), separate from the Ed25519 identity. */
export interface AgreementKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** An agreement public key with its owner's identity signature, as it travels to the other clients. */
export interface SignedAgreementKey {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** A fresh key pair; the secret scalar comes from node:crypto's CSPRNG, not tweetnacl's own source. */
export function generateAgreementKey(): AgreementKeyPair {
  const secret = randomBytes(AGREEMENT_SECRET_KEY_BYTES);
  const pair = nacl.box.keyPair.fromSecretKey(secret); // copies the scalar
  secret.fill(0);
  return pair;
}

/**
 * The signed bytes: UTF-8 domain || 0x00 || UTF-8 runId || 0x00 || identity public key (32) || agreement
 * public key (32). The two keys have fixed lengths at the end, so the encoding is injective even for a runId
 * containing 0x00. Binding the run stops a key from one run being replayed into another; binding the identity
 * stops another client from presenting someone else's signed key as its own.
 */
export function agreementKeyMessage(runId: string, identityPublicKey: Uint8Array, agreementPublicKey: Uint8Array): Uint8Array {
  if (runId === '') throw new KeyError('agreement key: the run id must not be empty');
  if (identityPublicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new KeyError(`agreement key: expected a ${ED25519_PUBLIC_KEY_BYTES}-byte identity public key, got ${identityPublicKey.length}`);
  }
  if (agreementPublicKey.length !== AGREEMENT_PUBLIC_KEY_BYTES) {
    throw new KeyError(`agreement key: expected a ${AGREEMENT_PUBLIC_KEY_BYTES}-byte X25519 public key, got ${agreementPublicKey.length}`);
  }
  const parts = [Buffer.from(AGREEMENT_KEY_DOMAIN, 'utf8'), Buffer.of(0), Buffer.from(runId, 'utf8'), Buffer.of(0), identityPublicKey, agreementPublicKey];
  return new Uint8Array(Buffer.concat(parts));
}

/** Signs `agreementPublicKey` with `identity` for `runId`. */
export function signAgreementKey(identity: Identity, agreementPublicKey: Uint8Array, runId: string): SignedAgreementKey {
  const message = agreementKeyMessage(runId, identity.publicKey, agreementPublicKey);
  return { publicKey: new Uint8Array(agreementPublicKey), signature: sign(message, identity.secretKey) };
}

/**
 * True when `signed` is an agreement key that the holder of `identityPublicKey` signed for `runId`.
 * Never throws for what arrives over the wire (wrong lengths are false); an empty `runId`, the caller's own
 * value, is a KeyError.
 */
export function verifyAgreementKey(signed: SignedAgreementKey, identityPublicKey: Uint8Array, runId: string): boolean {
  if (runId === '') throw new KeyError('agreement key: the run id must not be empty');
  const { publicKey, signature } = signed;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== AGREEMENT_PUBLIC_KEY_BYTES) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  if (!(identityPublicKey instanceof Uint8Array) || identityPublicKey.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  return verify(agreementKeyMessage(runId, identityPublicKey, publicKey), signature, identityPublicKey);
}
