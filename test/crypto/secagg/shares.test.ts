import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recoverSecret, shareSecret } from '../../../src/crypto/secagg/shamir.js';
import { openShare, sealShare } from '../../../src/crypto/secagg/shareBox.js';
import { generateX25519 } from '../../../src/crypto/secagg/x25519.js';

describe('Shamir shares of a 32-byte seed', () => {
  it('any t of n reconstruct it; t - 1 do not', async () => {
    const secret = new Uint8Array(randomBytes(32));
    const shares = await shareSecret(secret, 10, 6);
    const pick = [9, 2, 4, 7, 0, 5].map((i) => shares[i]!);
    expect(Buffer.from(await recoverSecret(pick, 6, 32)).equals(Buffer.from(secret))).toBe(true);
    await expect(recoverSecret(pick.slice(0, 5), 6, 32)).rejects.toThrow(/cannot reconstruct/);
    // The package itself combines t - 1 shares into something else: the threshold is real.
    const { combine } = await import('shamir-secret-sharing');
    expect(Buffer.from(await combine(pick.slice(0, 5))).equals(Buffer.from(secret))).toBe(false);
  });

  it('refuses duplicated shares and wrong sizes', async () => {
    const shares = await shareSecret(new Uint8Array(randomBytes(32)), 5, 3);
    await expect(recoverSecret([shares[0]!, shares[0]!, shares[1]!], 3, 32)).rejects.toThrow(/same x-coordinate/);
    await expect(recoverSecret([shares[0]!.subarray(1), shares[1]!, shares[2]!], 3, 32)).rejects.toThrow(/33 bytes/);
    await expect(shareSecret(new Uint8Array(32), 300, 3)).rejects.toThrow(/255/);
  });
});

describe('share boxes (AES-256-GCM under X25519 + HKDF)', () => {
  const alice = generateX25519();
  const bob = generateX25519();
  const route = { runId: 'r', round: 2, sender: 'alice', recipient: 'bob' };

  it('the recipient opens what the sender sealed', () => {
    const sealed = sealShare(Uint8Array.of(1, 2, 3), alice.secretKey, bob.publicKey, route);
    expect([...openShare(sealed, bob.secretKey, alice.publicKey, route)]).toEqual([1, 2, 3]);
  });

  it('a box replayed to another route, altered, or opened by a third key fails', () => {
    const sealed = sealShare(Uint8Array.of(1, 2, 3), alice.secretKey, bob.publicKey, route);
    for (const other of [{ ...route, round: 3 }, { ...route, runId: 's' }, { ...route, sender: 'carol' }, { ...route, recipient: 'dave' }]) {
      expect(() => openShare(sealed, bob.secretKey, alice.publicKey, other)).toThrow(/does not authenticate/);
    }
    const flipped = sealed.ciphertext.slice();
    flipped[0]! ^= 1;
    expect(() => openShare({ ...sealed, ciphertext: flipped }, bob.secretKey, alice.publicKey, route)).toThrow(/does not authenticate/);
    const eve = generateX25519();
    expect(() => openShare(sealed, eve.secretKey, alice.publicKey, route)).toThrow(/does not authenticate/);
  });
});
