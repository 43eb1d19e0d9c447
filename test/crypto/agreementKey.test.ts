import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { agreementKeyMessage, generateAgreementKey, signAgreementKey, verifyAgreementKey } from '../../src/crypto/agreementKey.js';
import { generateIdentity, sign } from '../../src/crypto/identity.js';

const flipped = (b: Uint8Array, at: number): Uint8Array => {
  const c = new Uint8Array(b);
  c[at] = c[at]! ^ 1;
  return c;
};

describe('agreement keys', () => {
  it('generates X25519 box key pairs that agree with each other', () => {
    const a = generateAgreementKey();
    const b = generateAgreementKey();
    expect(a.publicKey).toHaveLength(32);
    expect(a.secretKey).toHaveLength(32);
    expect(nacl.box.keyPair.fromSecretKey(a.secretKey).publicKey).toEqual(a.publicKey);
    expect(a.secretKey).not.toEqual(b.secretKey);
    expect(nacl.box.before(b.publicKey, a.secretKey)).toEqual(nacl.box.before(a.publicKey, b.secretKey));
  });

  it('signs over the domain, the run, the identity and the key, in that layout', () => {
    const id = generateIdentity();
    const key = generateAgreementKey().publicKey;
    const message = agreementKeyMessage('run-7', id.publicKey, key);
    expect(Buffer.from(message.subarray(0, 30)).toString('utf8')).toBe('cohort-agreement-key-v1\0run-7\0');
    expect(message.subarray(30, 62)).toEqual(id.publicKey);
    expect(message.subarray(62)).toEqual(key);
    const signed = signAgreementKey(id, key, 'run-7');
    expect(signed.publicKey).toEqual(key);
    // The wire bytes are tweetnacl's: any tweetnacl peer can check them.
    expect(nacl.sign.detached.verify(message, signed.signature, id.publicKey)).toBe(true);
  });

  it('verifies only for the run and identity it was signed for, and only unchanged', () => {
    const north = generateIdentity();
    const south = generateIdentity();
    const signed = signAgreementKey(north, generateAgreementKey().publicKey, 'run-1');
    expect(verifyAgreementKey(signed, north.publicKey, 'run-1')).toBe(true);
    expect(verifyAgreementKey(signed, north.publicKey, 'run-2')).toBe(false);
    expect(verifyAgreementKey(signed, north.publicKey, 'run-1 ')).toBe(false);
    expect(verifyAgreementKey(signed, south.publicKey, 'run-1')).toBe(false);
    for (const at of [0, 17, 31]) expect(verifyAgreementKey({ ...signed, publicKey: flipped(signed.publicKey, at) }, north.publicKey, 'run-1')).toBe(false);
    for (const at of [0, 40, 63]) expect(verifyAgreementKey({ ...signed, signature: flipped(signed.signature, at) }, north.publicKey, 'run-1')).toBe(false);
  });

  it('does not accept a plain identity signature of the key bytes (domain separation)', () => {
    const id = generateIdentity();
    const key = generateAgreementKey().publicKey;
    expect(verifyAgreementKey({ publicKey: key, signature: sign(key, id.secretKey) }, id.publicKey, 'run-1')).toBe(false);
  });

  it('returns false for wrong lengths from the wire and refuses an empty run id', () => {
    const id = generateIdentity();
    const signed = signAgreementKey(id, generateAgreementKey().publicKey, 'r');
    expect(verifyAgreementKey({ ...signed, publicKey: signed.publicKey.subarray(1) }, id.publicKey, 'r')).toBe(false);
    expect(verifyAgreementKey({ ...signed, signature: signed.signature.subarray(1) }, id.publicKey, 'r')).toBe(false);
    expect(verifyAgreementKey(signed, id.secretKey, 'r')).toBe(false);
    expect(verifyAgreementKey({ publicKey: 'x', signature: null } as unknown as typeof signed, id.publicKey, 'r')).toBe(false);
    expect(() => verifyAgreementKey(signed, id.publicKey, '')).toThrow(/run id must not be empty/);
    expect(() => signAgreementKey(id, generateAgreementKey().publicKey, '')).toThrow(/run id must not be empty/);
    expect(() => signAgreementKey(id, new Uint8Array(31), 'r')).toThrow(/32-byte X25519 public key, got 31/);
  });
});
