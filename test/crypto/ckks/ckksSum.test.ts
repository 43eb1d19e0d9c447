import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksClientSide, type CkksEncryptedUpdate } from '../../../src/crypto/ckks/clientSide.js';
import { CkksContext } from '../../../src/crypto/ckks/ckksContext.js';
import { CkksError } from '../../../src/crypto/ckks/ckksError.js';
import { CkksEvaluatorSide } from '../../../src/crypto/ckks/evaluatorSide.js';
import { ciphertextFrameChunks, encodeCiphertextFrames, framedByteLength } from '../../../src/crypto/ckks/frames.js';
import { seededParts } from '../../../src/crypto/ckks/seededSum.js';
import { closeKeyHolders, openKeyHolders, randomValues, upload } from '../../helpers/ckksFixture.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

let ctx: CkksContext;
let dealer: CkksClientSide;
let other: CkksClientSide;

beforeAll(async () => ({ ctx, dealer, other } = await openKeyHolders()));
afterAll(() => closeKeyHolders({ ctx, dealer, other }));

describe('CKKS secure sum (real node-seal)', () => {
  it('round-trips a few vectors of awkward lengths through the coordinator, decrypted by another client', () => {
    for (const n of [1, 4095, 4096, 4097, 9000]) {
      const values = randomValues(n, n, 3);
      const evaluator = new CkksEvaluatorSide(ctx, n);
      const update = dealer.encrypt(values);
      expect(update.ciphertexts).toHaveLength(Math.ceil(n / 4096));
      expect(update.clipped).toBe(0);
      upload(evaluator, update);
      const mean = other.decryptSum(evaluator.serializeSum(), n, 1);
      evaluator.dispose();
      expect(mean).toHaveLength(n);
      expect(maxAbsDiff(mean, values)).toBeLessThan(1e-6);
    }
  });

  it('rounds the CKKS error out of what a client decrypts: grid values come back exactly, zeros as zeros', () => {
    const n = 8_192; // 2 ciphertexts; the last 4,000 values of the model carry zeros
    const grid = dealer.grid;
    expect(grid).toBe(2 ** -24);
    const parts = [0, 1, 2].map((c) => Float32Array.from({ length: n }, (_, i) => (i < 4_192 ? ((i * 37 + c * 11) % 2_001) - 1_000 : 0) / 1_024));
    const evaluator = new CkksEvaluatorSide(ctx, n);
    for (const [c, values] of parts.entries()) upload(evaluator, (c % 2 ? dealer : other).encryptScaled(values, 1));
    const sum = evaluator.serializeSum();
    evaluator.dispose();
    const expected = Float64Array.from({ length: n }, (_, i) => parts[0]![i]! + parts[1]![i]! + parts[2]![i]!);
    // Unrounded, the decryption carries the encryption error (the attack surface); rounded, it is gone.
    const raw = other.decryptSumFloat64(sum, n, 1);
    const rawError = maxAbsDiff(raw, expected);
    expect(rawError).toBeGreaterThan(0);
    // The grid sits well above the error (about 60x the largest of 8k slots here), so rounding is exact.
    expect(rawError).toBeLessThan(grid / 16);
    expect(maxAbsDiff(other.decryptSum(sum, n, 1), expected)).toBe(0);
    expect(other.decryptSum(sum, n, 1).subarray(4_192).every((v) => Object.is(v, 0) || Object.is(v, -0))).toBe(true);
  });

  it('sends the sum seeded: about one upload in size, independent of arrival order, rebuilt exactly by the clients', () => {
    const n = 9_000; // 3 ciphertexts
    const updates = [0, 1, 2, 3].map((c) => (c % 2 ? dealer : other).encryptScaled(randomValues(n, 40 + c, 0.5), 1));
    const sumOf = (order: number[]) => {
      const evaluator = new CkksEvaluatorSide(ctx, n);
      for (const c of order) upload(evaluator, updates[c]!);
      const sum = evaluator.serializeSum();
      evaluator.dispose();
      return sum;
    };
    const forward = sumOf([0, 1, 2, 3]);
    const backward = sumOf([3, 1, 0, 2]);
    expect(forward.map((c) => Buffer.from(c).toString('hex'))).toEqual(backward.map((c) => Buffer.from(c).toString('hex')));
    // One seeded ciphertext (c0 and a seed) plus three more seed records, against two polynomials unseeded.
    const upload0 = updates[0]!.ciphertexts[0]!.length;
    expect(forward[0]!.length).toBeLessThan(upload0 + 3 * 100);
    expect(forward[0]!.length).toBeGreaterThan(upload0);
    const expected = new Float64Array(n);
    for (const c of [0, 1, 2, 3]) randomValues(n, 40 + c, 0.5).forEach((v, i) => (expected[i]! += v));
    expect(maxAbsDiff(dealer.decryptSumFloat64(forward, n, 1), expected)).toBeLessThan(1e-8);
    // A seed record flipped: the rebuilt sum is garbage (SEAL expands the wrong a_k), far from the sum.
    const tampered = forward.map((c) => c.slice());
    tampered[0]![tampered[0]!.length - 5]! ^= 0xff;
    expect(maxAbsDiff(dealer.decryptSumFloat64(tampered, n, 1).subarray(0, 2_048), expected.subarray(0, 2_048))).toBeGreaterThan(1);
  });

  it('refuses an upload that is not an uncompressed seeded ciphertext', () => {
    const n = 100;
    const evaluator = new CkksEvaluatorSide(ctx, n);
    upload(evaluator, dealer.encryptScaled(randomValues(n, 1), 1));
    // The sum of one update, serialized whole (both polynomials, no seed): what a client might send instead.
    const single = new CkksEvaluatorSide(ctx, n);
    upload(single, other.encryptScaled(randomValues(n, 2), 1));
    const whole = new ctx.seal.Ciphertext();
    const parts = [...seededParts(single.serializeSum()[0]!)];
    whole.loadFromArray(ctx.context, parts[0]!);
    const unseeded = whole.saveToArray(ctx.seal.ComprModeType.none) as Uint8Array;
    whole.delete();
    single.dispose();
    const sink = evaluator.accept();
    expect(() => {
      for (const chunk of ciphertextFrameChunks([unseeded], 1 << 20)) sink.write(chunk);
    }).toThrow(/seeded ciphertext of these parameters has \d+ bytes uncompressed|not a seeded ciphertext/);
    evaluator.dispose();
  });

  it('sums 20 weighted updates of 10k values as exactly as float64 plaintext', () => {
    const n = 10_000;
    const updates = Array.from({ length: 20 }, (_, c) => randomValues(n, 100 + c, 0.05));
    const weights = updates.map((_, c) => 10 + 17 * c); // example counts
    const evaluator = new CkksEvaluatorSide(ctx, n);
    for (const [c, values] of updates.entries()) upload(evaluator, (c % 2 ? dealer : other).encryptScaled(values, weights[c]!));
    expect(evaluator.contributors).toBe(20);
    const sum = evaluator.serializeSum();
    evaluator.dispose();

    const plainSum = new Float64Array(n);
    for (const [c, values] of updates.entries()) for (let i = 0; i < n; i++) plainSum[i]! += weights[c]! * values[i]!;
    const totalWeight = weights.reduce((a, b) => a + b, 0);
    const sumError = maxAbsDiff(other.decryptSumFloat64(sum, n, 1), plainSum);
    const meanError = maxAbsDiff(other.decryptSumFloat64(sum, n, totalWeight), plainSum.map((v) => v / totalWeight));
    const mean32 = other.decryptSum(sum, n, totalWeight);
    const mean32Error = maxAbsDiff(mean32, plainSum.map((v) => v / totalWeight));
    console.log(`20 x 10k: max |sum error| ${sumError.toExponential(2)} (sum magnitude up to ${Math.max(...plainSum.map(Math.abs)).toFixed(1)}), ` +
      `mean error float64 ${meanError.toExponential(2)}, float32 ${mean32Error.toExponential(2)}`);
    expect(sumError).toBeLessThan(1e-6);
    expect(meanError).toBeLessThan(1e-8);
    // The float32 result is the float64 mean rounded: no worse than half a float32 ulp of |mean| <= 0.05.
    expect(mean32Error).toBeLessThan(2 ** -29);
  });

  it('adds updates streamed in chunks cut anywhere, in any order, to the same sum bit for bit', () => {
    const n = 6000;
    const a = dealer.encryptScaled(randomValues(n, 1), 2);
    const b = other.encryptScaled(randomValues(n, 2), 3);
    const one = new CkksEvaluatorSide(ctx, n);
    upload(one, a);
    upload(one, b);
    const two = new CkksEvaluatorSide(ctx, n);
    upload(two, b, 777);
    upload(two, a, 16);
    expect(two.serializeSum()).toEqual(one.serializeSum());
    one.dispose();
    two.dispose();
  });

  it('interleaves concurrent uploads, and an aborted or failed update leaves no trace, bit for bit', () => {
    const n = 9000; // 3 ciphertexts
    const a = dealer.encrypt(randomValues(n, 3));
    const b = dealer.encrypt(randomValues(n, 4));
    const c = dealer.encrypt(randomValues(n, 5));
    const reference = new CkksEvaluatorSide(ctx, n);
    upload(reference, a);
    const expected = reference.serializeSum();
    reference.dispose();

    const evaluator = new CkksEvaluatorSide(ctx, n);
    const frames = (u: CkksEncryptedUpdate) => encodeCiphertextFrames(u.ciphertexts);
    // b starts first, so its first ciphertexts are the sum's own objects; it then aborts.
    const sinkB = evaluator.accept();
    sinkB.write(frames(b).subarray(0, 40_000));
    const sinkA = evaluator.accept();
    sinkA.write(frames(a).subarray(0, 10));
    sinkA.write(frames(a).subarray(10));
    sinkB.abort('client disconnected');
    // c is complete but one ciphertext short at commit: refused and rolled back.
    const sinkC = evaluator.accept();
    sinkC.write(encodeCiphertextFrames(c.ciphertexts.slice(0, 2)));
    expect(() => sinkC.commit()).toThrow('update has 2 ciphertexts, expected 3');
    expect(() => sinkC.write(new Uint8Array(1))).toThrow(/already finished/);
    // c again with one ciphertext too many: refused as it arrives.
    const sinkD = evaluator.accept();
    expect(() => sinkD.write(encodeCiphertextFrames([...c.ciphertexts, c.ciphertexts[0]!]))).toThrow(/more than the 3 ciphertexts/);
    sinkA.commit();
    expect(evaluator.contributors).toBe(1);
    expect(evaluator.serializeSum()).toEqual(expected);
    evaluator.dispose();
  });

  it('closes on serializeSum: uploads still in flight are rolled back and refused', () => {
    const n = 3000;
    const a = dealer.encrypt(randomValues(n, 6));
    const evaluator = new CkksEvaluatorSide(ctx, n);
    upload(evaluator, a);
    const late = evaluator.accept();
    late.write(encodeCiphertextFrames(a.ciphertexts.slice(0, 1)));
    const sum = evaluator.serializeSum();
    expect(() => late.commit()).toThrow(/closed before this update completed/);
    expect(() => evaluator.accept()).toThrow(/closed/);
    expect(maxAbsDiff(dealer.decryptSum(sum, n, 1), randomValues(n, 6))).toBeLessThan(1e-6);
    evaluator.dispose();
    const empty = new CkksEvaluatorSide(ctx, n);
    expect(() => empty.serializeSum()).toThrow('no update was committed into the sum');
    empty.dispose();
  });
});

describe('the coordinator holds no key', () => {
  it('has no key or decryptor among its fields and no decrypting method', () => {
    const evaluator = new CkksEvaluatorSide(ctx, 100);
    upload(evaluator, dealer.encrypt(randomValues(100, 7)));
    const seal = ctx.seal;
    const keyish = [seal.SecretKey, seal.PublicKey, seal.KeyGenerator, seal.Decryptor, seal.Encryptor, seal.CKKSEncoder];
    /** Every object reachable through fields (TypeScript `private` ones too), except the module's classes. */
    const reachable = (root: object): Set<object> => {
      const seen = new Set<object>();
      const walk = (value: unknown): void => {
        if (typeof value !== 'object' || value === null || seen.has(value) || value === seal) return;
        seen.add(value);
        for (const field of Object.values(value)) walk(field);
      };
      walk(root);
      return seen;
    };
    const holdsKey = (root: object) => [...reachable(root)].some((o) => keyish.some((k) => o instanceof k));
    expect(holdsKey(evaluator)).toBe(false);
    expect(reachable(evaluator).has(ctx.context)).toBe(true); // it looked inside, through the shared context too
    expect(holdsKey(dealer)).toBe(true); // and the same walk does find a client's key
    const methods = Object.getOwnPropertyNames(CkksEvaluatorSide.prototype);
    expect(methods.filter((m) => /decrypt|key|decode/i.test(m))).toEqual([]);
    // The context it shares is key-free too: SEAL builds no decryptor from it without the secret key.
    expect(() => new seal.Decryptor(ctx.context, new seal.SecretKey())).toThrow();
    evaluator.dispose();
  });

  it('a key generated from the same public parameters does not decrypt the sum', () => {
    const n = 2048;
    const values = randomValues(n, 8);
    const evaluator = new CkksEvaluatorSide(ctx, n);
    upload(evaluator, dealer.encrypt(values));
    const impostor = CkksClientSide.generate(ctx);
    const guess = impostor.decryptSumFloat64(evaluator.serializeSum(), n, 1);
    impostor.dispose();
    evaluator.dispose();
    // Without the key the "plaintext" is noise spread over the whole +-2^19 range.
    expect(maxAbsDiff(guess, values)).toBeGreaterThan(1000);
  });

  it('refuses a key made for other parameters', async () => {
    const large = await CkksContext.create({ polyModulusDegree: 8192 });
    try {
      expect(() => CkksClientSide.importSecretKey(large, dealer.exportSecretKey())).toThrow(/does not load under these CKKS parameters/);
    } finally {
      large.dispose();
    }
  });
});

describe('headroom', () => {
  it('clips weighted values to the per-client bound, counts them, and the sum never wraps', async () => {
    const small = await CkksContext.create({ maxContributors: 4 });
    const client = CkksClientSide.generate(small);
    const bound = small.contributionBound;
    expect(bound).toBeCloseTo(small.sumBound / 4, 6);
    const n = 3000;
    const values = randomValues(n, 9, 1000);
    const evaluator = new CkksEvaluatorSide(small, n);
    let clipped = 0;
    for (let c = 0; c < 4; c++) {
      const update = client.encryptScaled(values, 500); // |500 x| up to 5e5, about 4x the bound of 1.3e5
      clipped += update.clipped;
      upload(evaluator, update);
    }
    const expected = Float64Array.from(values, (v) => 4 * Math.max(-bound, Math.min(bound, 500 * v)));
    const expectedClipped = values.filter((v) => Math.abs(500 * v) > bound).length * 4;
    expect(clipped).toBe(expectedClipped);
    expect(clipped).toBeGreaterThan(n); // about 3/4 of the values, each of 4 times
    // The largest possible sum, 4 x bound = sumBound, still decodes (relative error ~1e-15).
    const sum = evaluator.serializeSum();
    expect(maxAbsDiff(client.decryptSumFloat64(sum, n, 1), expected)).toBeLessThan(1e-6);
    evaluator.dispose();

    // A fifth contributor would exceed the headroom: the coordinator refuses it.
    const full = new CkksEvaluatorSide(small, n);
    for (let c = 0; c < 4; c++) upload(full, client.encrypt(randomValues(n, c)));
    expect(() => upload(full, client.encrypt(randomValues(n, 5)))).toThrow(/already holds 4 updates/);
    full.dispose();
    client.dispose();
    small.dispose();
  });

  it('is needed: the same values without clipping wrap around modulo q, silently (raw node-seal)', () => {
    // What the clipping prevents, shown with raw SEAL calls: three ciphertexts of 2e5 (each encodable)
    // sum to 6e5 > 2^19, which decodes as 6e5 - q/scale, about -4.5e5, with no error raised.
    const seal = ctx.seal;
    const encoder = new seal.CKKSEncoder(ctx.context);
    const plain = new seal.Plaintext();
    const keys = new seal.KeyGenerator(ctx.context);
    const secret = keys.secretKey();
    const pub = keys.createPublicKey();
    const encryptor = new seal.Encryptor(ctx.context, pub, secret);
    const decryptor = new seal.Decryptor(ctx.context, secret);
    const evaluator = new seal.Evaluator(ctx.context);
    const sum = new seal.Ciphertext();
    const next = new seal.Ciphertext();
    encoder.encode(new Float64Array(ctx.parameters.polyModulusDegree / 2).fill(2e5), ctx.scale, plain);
    encryptor.encryptSymmetric(plain, sum);
    for (let c = 1; c < 3; c++) {
      encryptor.encryptSymmetric(plain, next);
      evaluator.addInplace(sum, next);
    }
    decryptor.decrypt(sum, plain);
    const decoded = encoder.decodeFloat64(plain) as Float64Array;
    expect(decoded[0]).toBeCloseTo(6e5 - 2 ** 20, 0);
    for (const o of [encoder, plain, keys, secret, pub, encryptor, decryptor, evaluator, sum, next]) o.delete();
    // Our client clips 2e5 to the per-client bound (sumBound / 100), and the coordinator takes no more
    // than 100 such updates.
    const update = dealer.encrypt(new Float32Array(ctx.valuesPerCiphertext).fill(2e5));
    expect(update.clipped).toBe(ctx.valuesPerCiphertext);
    const single = new CkksEvaluatorSide(ctx, ctx.valuesPerCiphertext);
    upload(single, update);
    expect(dealer.decryptSum(single.serializeSum(), ctx.valuesPerCiphertext, 1)[0]).toBeCloseTo(ctx.contributionBound, 3);
    single.dispose();
  });

  it('caps the bound at what SEAL can encode when a single contributor is allowed', async () => {
    const solo = await CkksContext.create({ maxContributors: 1 });
    expect(solo.contributionBound).toBe(2 ** 18 - 1);
    const client = CkksClientSide.generate(solo);
    const update = client.encrypt(new Float32Array(10).fill(1e6)); // would be "encoded values are too large"
    expect(update.clipped).toBe(10);
    client.dispose();
    solo.dispose();
  });
});

describe('wire size', () => {
  it('carries a 100k-value update in at most 4.1x its float32 size (seeded encryption, one 60-bit prime)', () => {
    const n = 100_000;
    const update = dealer.encrypt(randomValues(n, 10));
    const framed = framedByteLength(update.ciphertexts);
    const perValue = framed / n;
    console.log(`100k values: ${update.ciphertexts.length} ciphertexts, ${framed} bytes framed, ${perValue.toFixed(2)} bytes/value, ` +
      `${(perValue / 4).toFixed(3)}x float32; one ciphertext ${update.ciphertexts[0]!.length} bytes; sum ciphertext ` +
      `${(() => { const e = new CkksEvaluatorSide(ctx, n); upload(e, update); const s = e.serializeSum(); e.dispose(); return s[0]!.length; })()} bytes`);
    expect(perValue / 4).toBeLessThanOrEqual(4.1);
  });
});

describe('misuse', () => {
  it('refuses ciphertexts of other parameters or another scale, bad weights and disposed objects', async () => {
    const n = 100;
    const large = await CkksContext.create({ polyModulusDegree: 8192 });
    const foreign = CkksClientSide.generate(large).encrypt(randomValues(n, 11));
    const evaluator = new CkksEvaluatorSide(ctx, n);
    const sink = evaluator.accept();
    expect(() => sink.write(encodeCiphertextFrames(foreign.ciphertexts))).toThrow(/ciphertext 0 does not load under these CKKS parameters/);
    const lowScale = await CkksContext.create({ scaleBits: 30 });
    const scaled = CkksClientSide.generate(lowScale);
    // Same N and prime, so SEAL loads it; the scale check catches it.
    expect(() => upload(evaluator, scaled.encrypt(randomValues(n, 12)))).toThrow('ciphertext 0 has scale 2^30, expected 2^40');
    expect(() => dealer.encryptScaled(randomValues(n, 13), 0)).toThrow(/weight must be positive/);
    expect(() => dealer.encrypt(new Float32Array(0))).toThrow(/empty update/);
    expect(() => dealer.encrypt(Float32Array.from([1, Number.NaN]))).toThrow(/value 1 is NaN/);
    expect(() => dealer.decryptSum([], n, 1)).toThrow('a sum of 100 values has 1 ciphertexts, got 0');
    expect(() => dealer.decryptSum([new Uint8Array(8)], n, 0)).toThrow(/totalWeight must be positive/);
    evaluator.dispose();
    expect(() => evaluator.accept()).toThrow(/disposed/);
    scaled.dispose();
    expect(() => scaled.encrypt(randomValues(n, 12))).toThrow(/disposed/);
    lowScale.dispose();
    large.dispose();
    expect(() => new CkksEvaluatorSide(large, n)).toThrow(CkksError);
  });
});
