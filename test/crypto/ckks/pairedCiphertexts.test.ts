import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksClientSide, type CkksEncryptedUpdate } from '../../../src/crypto/ckks/clientSide.js';
import type { CkksContext } from '../../../src/crypto/ckks/ckksContext.js';
import { CoefficientCodec } from '../../../src/crypto/ckks/coefficientEncoding.js';
import { toBytes } from '../../../src/crypto/ckks/secretKey.js';
import { closeKeyHolders, openKeyHolders, randomValues, sumOf as sumIn } from '../../helpers/ckksFixture.js';

const sumOf = (n: number, updates: readonly CkksEncryptedUpdate[]): Uint8Array[] => sumIn(ctx, n, updates);

// Ciphertexts are encrypted and decrypted two at a time (one transform, addition and serialization for two):
// the pairs must give exactly what one ciphertext at a time gives, including where a pair cannot be formed.
let ctx: CkksContext;
let dealer: CkksClientSide;
let other: CkksClientSide;

beforeAll(async () => ({ ctx, dealer, other } = await openKeyHolders()));
afterAll(() => closeKeyHolders({ ctx, dealer, other }));

const N = 4096;


function oneAtATime(side: CkksClientSide, values: Float32Array, weight: number): CkksEncryptedUpdate {
  const ciphertexts: Uint8Array[] = [];
  for (let index = 0; index < ctx.ciphertextCount(values.length); index++) ciphertexts.push(side.encryptSlice(values, weight, index).bytes);
  return { ciphertexts, length: values.length, clipped: 0, byteLength: ciphertexts.reduce((n, c) => n + c.length, 0) };
}

describe('CKKS ciphertexts in pairs (real node-seal)', () => {
  it('encrypts and decrypts 120k values in pairs exactly as one ciphertext at a time, with zero ciphertexts and an odd last one', () => {
    const values = randomValues(30 * N + 1_000, 3, 2); // 31 ciphertexts: the last has no partner
    // Ciphertext 1 (a pair's second) and 4 (a pair's first) hold only zeros.
    values.fill(0, N, 2 * N);
    values.fill(0, 4 * N, 5 * N);
    const count = ctx.ciphertextCount(values.length);
    expect(count % 2).toBe(1);
    const paired = dealer.encryptScaled(values, 3);
    const single = oneAtATime(other, values, 3);
    expect(paired.ciphertexts.map((c) => c.length)).toEqual(single.ciphertexts.map((c) => c.length));
    const sum = sumOf(values.length, [paired, single]);
    // Every key holder decrypts the sum to the same bits, in pairs or one at a time, its own upload in it or not.
    const third = CkksClientSide.importSecretKey(ctx, dealer.exportSecretKey());
    try {
      const pairs = third.decryptSum(sum, values.length, 6);
      expect(dealer.decryptSum(sum, values.length, 6)).toEqual(pairs);
      expect(other.decryptSum(sum, values.length, 6)).toEqual(pairs);
      const singles = new Float32Array(values.length);
      for (let index = 0; index < count; index++) third.decryptSumPart(index, sum[index]!, 6, singles);
      expect(Buffer.from(pairs.buffer).equals(Buffer.from(singles.buffer))).toBe(true);
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(pairs[i]! - values[i]!));
      expect(worst).toBeLessThan(1e-6);
      for (let i = N; i < 2 * N; i++) expect(Math.abs(pairs[i]!)).toBe(0);
    } finally {
      third.dispose();
    }
  });

  it('decodes a pair through one transform only when the second polynomial is not zero (SEAL refuses a "transparent" one)', () => {
    const seal = ctx.seal;
    const update = dealer.encrypt(randomValues(2 * N, 5, 1));
    const cipher = new seal.Ciphertext();
    const evaluator = new seal.Evaluator(ctx.context);
    const key = new seal.SecretKey();
    const plains = [new seal.Plaintext(), new seal.Plaintext(), new seal.Plaintext()];
    const encoder = new seal.CKKSEncoder(ctx.context);
    let codec: CoefficientCodec | undefined;
    try {
      key.loadFromArray(ctx.context, dealer.exportSecretKey());
      const decryptor = new seal.Decryptor(ctx.context, key);
      cipher.loadFromArray(ctx.context, update.ciphertexts[0]!);
      codec = new CoefficientCodec(ctx, evaluator, toBytes(cipher.saveToArray(seal.ComprModeType.none)));
      decryptor.decrypt(cipher, plains[0]!);
      cipher.loadFromArray(ctx.context, update.ciphertexts[1]!);
      decryptor.decrypt(cipher, plains[1]!);
      encoder.encode(new Float64Array(N / 2), ctx.scale, plains[2]!); // the zero polynomial, NTT form
      decryptor.delete();

      const [a, b, pairA, pairB] = Array.from({ length: 4 }, () => new Float64Array(N));
      codec.decode(plains[0]!, a!, N);
      codec.decode(plains[1]!, b!, N);
      expect(codec.decodePair(plains[0]!, plains[1]!, pairA!, N, pairB!, N)).toBe(true);
      expect(pairA).toEqual(a);
      expect(pairB).toEqual(b);
      expect(Math.abs(a![7]!)).toBeGreaterThan(0);

      pairA!.fill(7);
      expect(codec.decodePair(plains[0]!, plains[2]!, pairA!, N, pairB!, N)).toBe(false);
      expect(pairA!.every((v) => v === 7)).toBe(true); // nothing decoded: the caller decodes each alone
      expect(codec.encodePairInto(a!, new Float64Array(N), cipher)).toBe(false);
      expect(codec.encodePairInto(a!, b!, cipher)).toBe(true);
    } finally {
      codec?.dispose();
      for (const x of [cipher, evaluator, key, encoder, ...plains]) x.delete();
    }
  });
});
