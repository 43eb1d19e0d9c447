import { hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { deriveIdentity } from '../../src/crypto/derivedIdentity.js';
import { identityFromSecretKey, sign, verify } from '../../src/crypto/identity.js';

const secret = new Uint8Array(32).map((_, i) => i * 7 + 1);

describe('deriveIdentity', () => {
  it('is HKDF-SHA256 then RFC 8032 key generation: tweetnacl derives the same key pair from the same seed', () => {
    const id = deriveIdentity(secret, 'virtual-client/abc/client-0042');
    const seed = new Uint8Array(hkdfSync('sha256', secret, Buffer.from('cohort/derived-identity/v1'), Buffer.from('virtual-client/abc/client-0042'), 32));
    const reference = nacl.sign.keyPair.fromSeed(seed);
    expect(Buffer.from(id.publicKey).equals(Buffer.from(reference.publicKey))).toBe(true);
    expect(Buffer.from(id.secretKey).equals(Buffer.from(reference.secretKey))).toBe(true);
    // A well-formed identity: the node's own key check accepts it and its signatures verify.
    expect(() => identityFromSecretKey(id.secretKey)).not.toThrow();
    const message = new TextEncoder().encode('hello');
    expect(verify(message, sign(message, id.secretKey), id.publicKey)).toBe(true);
  });

  it('gives the same key for the same secret and label, and unrelated keys when either differs', () => {
    const a = deriveIdentity(secret, 'label-a');
    expect(deriveIdentity(secret, 'label-a').publicKey).toEqual(a.publicKey);
    expect(deriveIdentity(secret, 'label-b').publicKey).not.toEqual(a.publicKey);
    const other = Uint8Array.from(secret, (v, i) => (i === 0 ? v ^ 1 : v));
    expect(deriveIdentity(other, 'label-a').publicKey).not.toEqual(a.publicKey);
  });

  it('refuses a secret shorter than a seed', () => {
    expect(() => deriveIdentity(new Uint8Array(16), 'x')).toThrow('a derivation secret needs at least 32 bytes, got 16');
  });
});
