import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksClientSide } from '../../../src/crypto/ckks/clientSide.js';
import { CkksContext } from '../../../src/crypto/ckks/ckksContext.js';
import { CkksEvaluatorSide } from '../../../src/crypto/ckks/evaluatorSide.js';
import { encodeCiphertextFrames } from '../../../src/crypto/ckks/frames.js';
import { closeKeyHolders, openKeyHolders, randomValues, upload } from '../../helpers/ckksFixture.js';

/** The 64-byte seed each seeded ciphertext ends in, as hex. */
const seedOf = (bytes: Uint8Array) => Buffer.from(bytes.subarray(bytes.length - 64)).toString('hex');

let ctx: CkksContext;
let dealer: CkksClientSide;
let other: CkksClientSide;

beforeAll(async () => ({ ctx, dealer, other } = await openKeyHolders()));
afterAll(() => closeKeyHolders({ ctx, dealer, other }));

describe('masked encryption: masks made ahead, composed with the update (real node-seal)', () => {
  it('sums 150k-value updates encrypted on masks as exactly as fresh encryptions, decrypted by another key holder', () => {
    const n = 150_001;
    const count = ctx.ciphertextCount(n);
    const a = randomValues(n, 1, 2);
    const b = randomValues(n, 2, 2);
    expect(dealer.precomputeMasks(count)).toBe(count);
    const masked = dealer.encryptScaled(a, 3);
    expect(dealer.masksReady).toBe(0); // every ciphertext took a mask
    const fresh = other.encryptScaled(b, 5);
    const evaluator = new CkksEvaluatorSide(ctx, n);
    upload(evaluator, masked);
    upload(evaluator, fresh);
    const sum = evaluator.serializeSum();
    evaluator.dispose();
    const raw = other.decryptSumFloat64(sum, n, 8);
    const rounded = other.decryptSum(sum, n, 8);
    let worstRaw = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const expected = (3 * a[i]! + 5 * b[i]!) / 8;
      worstRaw = Math.max(worstRaw, Math.abs(raw[i]! - expected));
      worst = Math.max(worst, Math.abs(rounded[i]! - expected));
    }
    // Fresh encryption's error is ~1e-10 here; a wrongly composed c0 gives values off by the mask (huge).
    expect(worstRaw).toBeLessThan(1e-8);
    expect(worst).toBeLessThan(1e-6);
  });

  it('never uses a mask twice: every ciphertext of two uploads carries its own seed, and uploads past the masks are fresh', () => {
    const n = 4096 * 60;
    expect(dealer.precomputeMasks(80)).toBe(80);
    const first = dealer.encryptScaled(randomValues(n, 3), 1);
    expect(dealer.masksReady).toBe(20);
    const second = dealer.encryptScaled(randomValues(n, 4), 1); // 20 on masks, 40 fresh
    expect(dealer.masksReady).toBe(0);
    const seeds = new Set([...first.ciphertexts, ...second.ciphertexts].map(seedOf));
    expect(seeds.size).toBe(120);
    // Two encryptions of the same values on one mask would have the same seed and c0: none do.
    const c0s = new Set([...first.ciphertexts, ...second.ciphertexts].map((c) => Buffer.from(c.subarray(200, 264)).toString('hex')));
    expect(c0s.size).toBe(120);
    for (const update of [first, second]) {
      const evaluator = new CkksEvaluatorSide(ctx, n);
      upload(evaluator, update);
      expect(other.decryptSum(evaluator.serializeSum(), n, 1)).toHaveLength(n);
      evaluator.dispose();
    }
  });

  it('drops its masks with the key: a disposed side refuses to make or use any', () => {
    const side = CkksClientSide.importSecretKey(ctx, dealer.exportSecretKey());
    side.precomputeMasks(3);
    side.dispose();
    expect(side.masksReady).toBe(0);
    expect(() => side.precomputeMasks(1)).toThrow(/disposed/);
  });
});

describe('the coordinator adds uploads by c0 alone (no seed expansion)', () => {
  const n = 5000;

  it('refuses a later upload whose SEAL header differs from the first (another scale), and keeps the sum intact', async () => {
    const scaled = await CkksContext.create({ scaleBits: 30 });
    const foreign = CkksClientSide.generate(scaled);
    const evaluator = new CkksEvaluatorSide(ctx, n);
    const a = randomValues(n, 5);
    upload(evaluator, dealer.encrypt(a));
    const sink = evaluator.accept();
    // Loaded as the sum's c0 without this check, a 2^30-scaled c0 would be added as if it were at 2^40.
    expect(() => sink.write(encodeCiphertextFrames(foreign.encrypt(randomValues(n, 6)).ciphertexts))).toThrow(/differs from the sum's ciphertexts in its SEAL header/);
    const out = other.decryptSum(evaluator.serializeSum(), n, 1);
    for (let i = 0; i < n; i++) expect(Math.abs(out[i]! - a[i]!)).toBeLessThan(1e-6);
    evaluator.dispose();
    foreign.dispose();
    scaled.dispose();
  });

  it('refuses a seed record of another kind and a c0 coefficient beyond q', () => {
    const evaluator = new CkksEvaluatorSide(ctx, n);
    upload(evaluator, dealer.encrypt(randomValues(n, 7)));
    const bad = dealer.encrypt(randomValues(n, 8)).ciphertexts.map((c) => c.slice());
    const first = bad[0]!;
    const record = first.length - 81;
    first[record + 16] = first[record + 16]! ^ 0x7f; // the PRNG type byte after the record's SEAL header
    expect(() => evaluator.accept().write(encodeCiphertextFrames(bad))).toThrow(/seed record of another kind/);
    const big = dealer.encrypt(randomValues(n, 9)).ciphertexts.map((c) => c.slice());
    big[1]?.fill(0xff, record - 8, record); // c0's last coefficient: 2^64 - 1 > q
    expect(() => evaluator.accept().write(encodeCiphertextFrames(big))).toThrow(/ciphertext 1 does not load under these CKKS parameters/);
    expect(evaluator.contributors).toBe(1);
    evaluator.dispose();
  });
});
