import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { PUBLIC_KEY_CACHE_SIZE, publicKeyCacheSize } from '../../src/crypto/ed25519KeyObjects.js';
import {
  generateIdentity,
  identityFromBase64,
  identityFromSecretKey,
  keyFingerprint,
  publicKeyFromBase64,
  sign,
  verify,
} from '../../src/crypto/identity.js';
import { encodeBase64, KeyError } from '../../src/crypto/keyEncoding.js';

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const flipped = (b: Uint8Array, at: number): Uint8Array => {
  const c = new Uint8Array(b);
  c[at] = c[at]! ^ 1;
  return c;
};

// The Ed25519 group order L (RFC 8032 section 5.1).
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

describe('generateIdentity', () => {
  it('makes tweetnacl-format key pairs: the secret key is the seed followed by the public key', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const id = generateIdentity();
      expect(id.publicKey).toHaveLength(32);
      expect(id.secretKey).toHaveLength(64);
      const nacl_ = nacl.sign.keyPair.fromSeed(id.secretKey.slice(0, 32));
      expect(nacl_.publicKey).toEqual(id.publicKey);
      expect(nacl_.secretKey).toEqual(id.secretKey);
      seen.add(encodeBase64(id.publicKey));
    }
    expect(seen.size).toBe(20);
  });
});

describe('sign and verify', () => {
  it('sign gives tweetnacl\'s bytes, and each side verifies the other\'s signatures', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 1000 }), (seed, message) => {
        const pair = nacl.sign.keyPair.fromSeed(seed);
        const ours = sign(message, pair.secretKey);
        const theirs = nacl.sign.detached(message, pair.secretKey);
        expect(ours).toEqual(theirs);
        expect(verify(message, theirs, pair.publicKey)).toBe(true);
        expect(nacl.sign.detached.verify(message, ours, pair.publicKey)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a changed message, a changed signature and another key', () => {
    const id = generateIdentity();
    const other = generateIdentity();
    const message = bytes(200);
    const signature = sign(message, id.secretKey);
    expect(verify(message, signature, id.publicKey)).toBe(true);
    for (const at of [0, 99, 199]) expect(verify(flipped(message, at), signature, id.publicKey)).toBe(false);
    for (const at of [0, 31, 32, 63]) expect(verify(message, flipped(signature, at), id.publicKey)).toBe(false);
    expect(verify(message, signature, other.publicKey)).toBe(false);
    expect(verify(message.subarray(1), signature, id.publicKey)).toBe(false);
  });

  it('returns false, never throws, for wrong lengths, non-byte inputs and unparsable keys', () => {
    const id = generateIdentity();
    const message = bytes(50);
    const signature = sign(message, id.secretKey);
    const cases: [unknown, unknown, unknown][] = [
      [message, signature.subarray(0, 63), id.publicKey],
      [message, new Uint8Array([...signature, 0]), id.publicKey],
      [message, new Uint8Array(0), id.publicKey],
      [message, signature, id.publicKey.subarray(0, 31)],
      [message, signature, new Uint8Array([...id.publicKey, 0])],
      [message, signature, id.secretKey],
      [message, signature, new Uint8Array(32).fill(0xff)],
      [message, signature, new Uint8Array(32)],
      [Array.from(message), signature, id.publicKey],
      [message, encodeBase64(signature), id.publicKey],
      [message, signature, encodeBase64(id.publicKey)],
      [null, undefined, {}],
    ];
    for (const [m, s, k] of cases) expect(verify(m as Uint8Array, s as Uint8Array, k as Uint8Array)).toBe(false);
  });

  it('refuses a signature re-encoded with S + L, which tweetnacl accepts (no malleability)', () => {
    const id = generateIdentity();
    const message = bytes(64);
    const signature = sign(message, id.secretKey);
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
    const big = s + L;
    expect(big < 2n ** 256n).toBe(true);
    const malleated = new Uint8Array(signature);
    for (let i = 0; i < 32; i++) malleated[32 + i] = Number((big >> BigInt(8 * i)) & 0xffn);
    expect(nacl.sign.detached.verify(message, malleated, id.publicKey)).toBe(true);
    expect(verify(message, malleated, id.publicKey)).toBe(false);
  });

  it('refuses to sign with a secret key of the wrong length or whose public half is not its seed\'s', () => {
    const id = generateIdentity();
    expect(() => sign(bytes(10), id.secretKey.subarray(0, 32))).toThrow(/expected 64 bytes \(seed then public key\), got 32/);
    const mixed = new Uint8Array([...id.secretKey.subarray(0, 32), ...generateIdentity().publicKey]);
    expect(() => sign(bytes(10), mixed)).toThrow(KeyError);
    expect(() => sign(bytes(10), mixed)).toThrow(/inconsistent/);
    expect(() => identityFromSecretKey(flipped(id.secretKey, 40), 'key of north')).toThrow(/^key of north is inconsistent/);
    expect(() => identityFromSecretKey(flipped(id.secretKey, 5))).toThrow(/inconsistent/);
  });

  it('signs with the new contents of a secret-key array that was overwritten after first use', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const message = bytes(32);
    const key = new Uint8Array(a.secretKey);
    expect(verify(message, sign(message, key), a.publicKey)).toBe(true);
    key.set(b.secretKey);
    expect(verify(message, sign(message, key), b.publicKey)).toBe(true);
    key[63] = key[63]! ^ 1;
    expect(() => sign(message, key)).toThrow(/inconsistent/);
  });

  it('keeps its parsed public keys bounded', () => {
    const message = bytes(8);
    const signature = new Uint8Array(64);
    for (let i = 0; i < PUBLIC_KEY_CACHE_SIZE + 50; i++) verify(message, signature, bytes(32));
    expect(publicKeyCacheSize()).toBe(PUBLIC_KEY_CACHE_SIZE);
    const id = generateIdentity();
    expect(verify(message, sign(message, id.secretKey), id.publicKey)).toBe(true);
  });
});

describe('base64 keys and fingerprints', () => {
  it('round-trips keys through base64 and checks the secret key on decoding', () => {
    const id = generateIdentity();
    const text = encodeBase64(id.publicKey);
    expect(text).toHaveLength(44);
    expect(publicKeyFromBase64(` ${text}\n`)).toEqual(id.publicKey);
    const back = identityFromBase64(encodeBase64(id.secretKey));
    expect(back.publicKey).toEqual(id.publicKey);
    expect(back.secretKey).toEqual(id.secretKey);
    expect(() => identityFromBase64(encodeBase64(flipped(id.secretKey, 33)))).toThrow(/inconsistent/);
  });

  it('names the key and the expected length in errors', () => {
    const id = generateIdentity();
    const text = encodeBase64(id.publicKey);
    expect(() => publicKeyFromBase64(text.slice(0, 40), 'public key of client north')).toThrow(
      /^public key of client north: expected base64 of 32 bytes \(44 characters\), got 40 characters decoding to 30 bytes$/,
    );
    expect(() => publicKeyFromBase64(encodeBase64(id.secretKey))).toThrow(/expected base64 of 32 bytes .* decoding to 64 bytes/);
    expect(() => identityFromBase64(text)).toThrow(/expected base64 of 64 bytes \(88 characters\), got 44 characters decoding to 32 bytes/);
    // Buffer.from(.., 'base64') would skip the '!' and the URL-safe characters and decode something.
    expect(() => publicKeyFromBase64(`${text.slice(0, 20)}!${text.slice(21)}`)).toThrow(/not base64/);
    expect(() => publicKeyFromBase64(text.replace(/[+/]/g, '-').replace(/^./, '-'))).toThrow(/not base64/);
    expect(() => publicKeyFromBase64('')).toThrow(/decoding to 0 bytes/);
  });

  it('fingerprints a public key as the first 16 hex digits of its SHA-256', () => {
    const id = generateIdentity();
    const fp = keyFingerprint(id.publicKey);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fp).toBe(createHash('sha256').update(id.publicKey).digest('hex').slice(0, 16));
    expect(keyFingerprint(generateIdentity().publicKey)).not.toBe(fp);
    expect(() => keyFingerprint(id.secretKey)).toThrow(/32-byte public key, got 64/);
  });
});
