import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksClientSide, type CkksEncryptedUpdate } from '../../../src/crypto/ckks/clientSide.js';
import { CkksContext } from '../../../src/crypto/ckks/ckksContext.js';
import { closeKeyHolders, openKeyHolders, randomValues, sumOf as sumIn } from '../../helpers/ckksFixture.js';

const sumOf = (n: number, updates: readonly CkksEncryptedUpdate[]): Uint8Array[] => sumIn(ctx, n, updates);


let ctx: CkksContext;
let dealer: CkksClientSide;
let other: CkksClientSide;

beforeAll(async () => ({ ctx, dealer, other } = await openKeyHolders()));
afterAll(() => closeKeyHolders({ ctx, dealer, other }));

describe('coefficient encoding: N values a ciphertext, as polynomial coefficients (real node-seal)', () => {
  it('packs 4,096 values a ciphertext, about 8 bytes a value seeded, and sums 150k-value updates of two key holders', () => {
    const n = 150_001;
    const a = randomValues(n, 1, 2);
    const b = randomValues(n, 2, 2);
    const ua = dealer.encryptScaled(a, 3);
    const ub = other.encryptScaled(b, 5);
    expect(ua.ciphertexts).toHaveLength(Math.ceil(n / 4096));
    // The first polynomial (4,096 words of 8 bytes) and a seed record, against 16 bytes a value with N/2 slots.
    expect(ua.byteLength / n).toBeGreaterThan(8);
    expect(ua.byteLength / n).toBeLessThan(8.2);
    const sum = sumOf(n, [ua, ub]);
    const raw = other.decryptSumFloat64(sum, n, 8);
    const rounded = dealer.decryptSum(sum, n, 8);
    let worstRaw = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const expected = (3 * a[i]! + 5 * b[i]!) / 8;
      worstRaw = Math.max(worstRaw, Math.abs(raw[i]! - expected));
      worst = Math.max(worst, Math.abs(rounded[i]! - expected));
    }
    expect(worstRaw).toBeGreaterThan(0); // the encryption error is there before rounding...
    expect(worstRaw).toBeLessThan(1e-10); // ...and tiny: coefficients carry it unamplified
    expect(worst).toBeLessThan(1e-6);
  });

  it('encodes signs and extremes exactly: zero, tiny, negative, and +-the contribution bound', () => {
    const bound = ctx.contributionBound * (1 - 1e-6); // within it once rounded to float32
    const special = [0, -0, 2 ** -30, -(2 ** -30), 0.5, -0.5, 1e3, -1e3, bound, -bound, bound / 3, -bound / 3];
    const n = 4096 + special.length; // the specials straddle two ciphertexts
    const values = new Float32Array(n);
    special.forEach((v, i) => {
      values[4090 + i] = v;
    });
    const update = dealer.encrypt(values);
    expect(update.clipped).toBe(0);
    const decrypted = other.decryptSumFloat64(sumOf(n, [update]), n, 1);
    for (let i = 0; i < n; i++) expect(Math.abs(decrypted[i]! - values[i]!)).toBeLessThan(1e-9);
    // Four contributors at the bound: the sum decodes with its sign (q wraps only past sumBound).
    const many = Array.from({ length: 4 }, () => dealer.encrypt(values));
    const four = other.decryptSum(sumOf(n, many), n, 1);
    expect(four[4090 + 8]).toBeCloseTo(4 * values[4090 + 8]!, 3);
    expect(four[4090 + 9]).toBeCloseTo(4 * values[4090 + 9]!, 3);
  });

  it('is SEAL encryption under the key: a different key decrypts noise, not the values', () => {
    const n = 10_000;
    const values = randomValues(n, 9, 1);
    const sum = sumOf(n, [dealer.encrypt(values)]);
    const stranger = CkksClientSide.generate(ctx);
    try {
      const wrong = stranger.decryptSumFloat64(sum, n, 1);
      let far = 0;
      for (let i = 0; i < n; i++) if (Math.abs(wrong[i]! - values[i]!) > 1) far++;
      expect(far).toBeGreaterThan(0.99 * n);
    } finally {
      stranger.dispose();
    }
  });

  it('refuses a slot-encoded sum (an older checkpoint, "CSS1") or a whole ciphertext, saying how to resume', () => {
    const n = 100;
    const sum = sumOf(n, [dealer.encrypt(randomValues(n, 3))]);
    expect(String.fromCharCode(...sum[0]!.subarray(0, 4))).toBe('CSS2');
    const older = sum.map((c) => c.slice());
    older[0]![3] = 0x31; // "CSS1"
    expect(() => other.decryptSum(older, n, 1)).toThrow(/slot encoded \("CSS1"\).*resume that run with the version that wrote it/);
    const whole = [dealer.encrypt(randomValues(n, 4)).ciphertexts[0]!];
    expect(() => other.decryptSum(whole, n, 1)).toThrow(/whole SEAL ciphertext, not a seeded sum/);
  });
});
