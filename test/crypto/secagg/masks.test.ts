import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addMask, expandMask, MaskStream } from '../../../src/crypto/secagg/maskStream.js';
import { pairSign, pairwiseMaskSeed } from '../../../src/crypto/secagg/pairwiseSeed.js';
import { generateX25519, x25519PublicOf } from '../../../src/crypto/secagg/x25519.js';

describe('mask expansion', () => {
  it('is the AES-256-CTR keystream under the seed, and chunked reads give the same mask', () => {
    const seed = randomBytes(32);
    const whole = expandMask(seed, 10_001);
    const keystream = createCipheriv('aes-256-ctr', seed, Buffer.alloc(16)).update(Buffer.alloc(4 * 10_001));
    expect(Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength).equals(keystream)).toBe(true);
    const stream = new MaskStream(seed);
    const parts = [stream.next(3), stream.next(4_000), stream.next(5_998)];
    const joined = new Uint32Array(10_001);
    let at = 0;
    for (const p of parts) joined.set(p, (at += p.length) - p.length);
    expect(joined).toEqual(whole);
    expect(expandMask(randomBytes(32), 16)).not.toEqual(expandMask(randomBytes(32), 16));
  });

  it('adds and removes masks mod 2^32', () => {
    const x = Uint32Array.of(0, 1, 0xffffffff, 12345);
    const m = expandMask(randomBytes(32), 4);
    const y = x.slice();
    addMask(y, m, 1);
    expect(y).not.toEqual(x);
    addMask(y, m, -1);
    expect(y).toEqual(x);
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => new MaskStream(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('pairwise mask seeds', () => {
  const a = generateX25519();
  const b = generateX25519();
  const pair = { runId: 'run-1', round: 3, a: 'alice', b: 'bob' };

  it('both ends derive the same seed, and opposite signs cancel', () => {
    const ab = pairwiseMaskSeed(a.secretKey, b.publicKey, pair);
    const ba = pairwiseMaskSeed(b.secretKey, a.publicKey, { ...pair, a: 'bob', b: 'alice' });
    expect(Buffer.from(ab).equals(Buffer.from(ba))).toBe(true);
    expect(pairSign('alice', 'bob') + pairSign('bob', 'alice')).toBe(0);
  });

  it('binds the run, the round and the pair', () => {
    const base = Buffer.from(pairwiseMaskSeed(a.secretKey, b.publicKey, pair));
    for (const other of [{ ...pair, runId: 'run-2' }, { ...pair, round: 4 }, { ...pair, b: 'carol' }]) {
      expect(Buffer.from(pairwiseMaskSeed(a.secretKey, b.publicKey, other)).equals(base)).toBe(false);
    }
  });

  it('a raw secret key gives back its public key (how a reconstructed mask key is checked)', () => {
    expect(Buffer.from(x25519PublicOf(a.secretKey)).equals(Buffer.from(a.publicKey))).toBe(true);
  });

  it('refuses a low-order peer key that would force a known secret', () => {
    expect(() => pairwiseMaskSeed(a.secretKey, new Uint8Array(32), pair)).toThrow();
  });
});
