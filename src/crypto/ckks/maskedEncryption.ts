import type { CKKSEncoder, Ciphertext, Encryptor, Evaluator, Plaintext } from 'node-seal';
import type { CkksContext } from './ckksContext.js';
import { CkksError, sealCall } from './ckksError.js';
import { CoefficientCodec } from './coefficientEncoding.js';
import { toBytes } from './secretKey.js';
import { checkSeeded, seededLayout, type SeededLayout } from './seededSum.js';

/**
 * Seeded symmetric CKKS encryption in two halves, so the costly half can run before the update exists.
 *
 * SEAL's encrypt_symmetric encrypts zero, (c0, c1) = (-a*s + e, a) with a expanded from a fresh CSPRNG seed,
 * then adds the plaintext to c0. The mask is that first half: SEAL's own seeded encryption of a zero
 * plaintext (`encryptSymmetricSerializable`), independent of the update, so a client can make it while it
 * trains. `compose` is the second half: SEAL adds the update, coefficient encoded (coefficientEncoding.ts) and
 * in NTT form, to the mask's c0 (Evaluator.addInplace on the mask's c0 loaded beside a stand-in c1, which the
 * result drops), and the bytes are the mask's own serialization with c0 swapped for the result (as
 * seededSum.ts swaps in the sum's c0). The ciphertext is (-a s + e + m, a): SEAL's symmetric encryption of
 * the update's polynomial m with that randomness; the arithmetic on ciphertexts is SEAL's.
 *
 * A mask must encrypt one plaintext only: two ciphertexts on one mask reveal the difference of their plaintexts.
 * Callers take each mask out of their store before composing (MaskStore).
 */
export class MaskComposer {
  private readonly zero: Plaintext;
  private readonly cipher: Ciphertext;
  private readonly encoded: Ciphertext;
  private readonly codec: CoefficientCodec;
  /** Where a seeded ciphertext keeps c0 and its seed record. */
  readonly layout: SeededLayout;
  /**
   * An unseeded ciphertext's serialization: c0 is written in per call; c1 is the constant 1 (SEAL refuses to
   * return a ciphertext whose c1 is zero, "transparent"; compose keeps only c0).
   */
  private readonly unseeded: Uint8Array;
  /** The same with both polynomials written per call: two masks' c0, composed at once (composePair). */
  private readonly unseededPair: Uint8Array;
  private readonly unseededPrefix: number;

  constructor(
    private readonly ctx: CkksContext,
    private readonly encryptor: Encryptor,
    private readonly encoder: CKKSEncoder,
    private readonly evaluator: Evaluator,
  ) {
    const seal = ctx.seal;
    this.zero = new seal.Plaintext();
    this.cipher = new seal.Ciphertext();
    this.encoded = new seal.Ciphertext();
    let codec: CoefficientCodec | undefined;
    try {
      // Zero at the context's scale: the mask's ciphertext takes its scale from it.
      encoder.encode(new Float64Array(ctx.parameters.polyModulusDegree / 2), ctx.scale, this.zero);
      // One mask, expanded by SEAL and saved whole, gives both serializations' layouts.
      const sample = this.makeMask();
      this.cipher.loadFromArray(ctx.context, sample);
      const whole = toBytes(this.cipher.saveToArray(seal.ComprModeType.none));
      const polynomialBytes = ctx.parameters.polyModulusDegree * ctx.dataPrimeCount * 8;
      this.layout = seededLayout(sample, whole.length, polynomialBytes);
      this.unseededPrefix = whole.length - 2 * polynomialBytes;
      codec = new CoefficientCodec(ctx, evaluator, whole);
      this.unseeded = new Uint8Array(whole.length);
      this.unseeded.set(whole.subarray(0, this.unseededPrefix));
      new DataView(this.unseeded.buffer).setBigUint64(this.unseededPrefix + polynomialBytes, 1n, true);
      this.unseededPair = this.unseeded.slice();
      this.codec = codec;
    } catch (e) {
      codec?.dispose();
      this.zero.delete();
      this.cipher.delete();
      this.encoded.delete();
      throw e instanceof CkksError ? e : new CkksError(`setting up masked encryption: ${String(e)}`, { cause: e });
    }
  }

  /** Bytes of a seeded ciphertext (a mask or a composed one). */
  get ciphertextBytes(): number {
    return this.layout.prefix + this.layout.c0 + this.layout.record;
  }

  /** A fresh mask: SEAL's seeded symmetric encryption of zero, serialized uncompressed. */
  makeMask(): Uint8Array {
    this.ctx.check();
    return sealCall('encrypting a mask', () => {
      const seeded = this.encryptor.encryptSymmetricSerializable(this.zero);
      try {
        return toBytes(seeded.saveToArray(this.ctx.seal.ComprModeType.none));
      } finally {
        seeded.delete();
      }
    });
  }

  /** The seeded ciphertext of `values` (N at most, each within the headroom) on `mask`; the mask is left as it was. */
  compose(mask: Uint8Array, values: Float64Array): Uint8Array {
    this.ctx.check();
    checkSeeded(mask, this.layout);
    const { prefix, c0 } = this.layout;
    this.unseeded.set(mask.subarray(prefix, prefix + c0), this.unseededPrefix);
    this.codec.encodeInto(values, this.encoded);
    const sum = sealCall('adding an update to its mask', () => {
      this.cipher.loadFromArray(this.ctx.context, this.unseeded);
      this.evaluator.addInplace(this.cipher, this.encoded);
      return toBytes(this.cipher.saveToArray(this.ctx.seal.ComprModeType.none));
    });
    const out = mask.slice();
    out.set(sum.subarray(this.unseededPrefix, this.unseededPrefix + c0), prefix);
    return out;
  }

  /**
   * compose for two ciphertexts at once, `first` on `firstMask` and `second` on `secondMask`: both masks' c0
   * go into one ciphertext as its two polynomials, the two updates likewise (CoefficientCodec.encodePairInto),
   * and one SEAL addition adds both, so encoding, transforms and (de)serialization are paid once for two.
   * The masks are left as they were.
   */
  composePair(firstMask: Uint8Array, secondMask: Uint8Array, first: Float64Array, second: Float64Array): [Uint8Array, Uint8Array] {
    this.ctx.check();
    checkSeeded(firstMask, this.layout);
    checkSeeded(secondMask, this.layout);
    // A second update that encodes to zero: its ciphertext is its mask, the encryption of zero, as it stands.
    if (!this.codec.encodePairInto(first, second, this.encoded)) return [this.compose(firstMask, first), secondMask.slice()];
    const { prefix, c0 } = this.layout;
    const at = this.unseededPrefix;
    this.unseededPair.set(firstMask.subarray(prefix, prefix + c0), at);
    this.unseededPair.set(secondMask.subarray(prefix, prefix + c0), at + c0);
    const sum = sealCall('adding two updates to their masks', () => {
      this.cipher.loadFromArray(this.ctx.context, this.unseededPair);
      this.evaluator.addInplace(this.cipher, this.encoded);
      return toBytes(this.cipher.saveToArray(this.ctx.seal.ComprModeType.none));
    });
    const outFirst = firstMask.slice();
    outFirst.set(sum.subarray(at, at + c0), prefix);
    const outSecond = secondMask.slice();
    outSecond.set(sum.subarray(at + c0, at + 2 * c0), prefix);
    return [outFirst, outSecond];
  }

  /** Decodes two decrypted plaintexts at once (CoefficientCodec.decodePair); false when it cannot (decode each then). */
  decodePair(first: Plaintext, second: Plaintext, outFirst: Float64Array, countFirst: number, outSecond: Float64Array, countSecond: number): boolean {
    return this.codec.decodePair(first, second, outFirst, countFirst, outSecond, countSecond);
  }

  /** Decodes a decrypted plaintext into out[0 .. count) (coefficientEncoding.ts). */
  decode(plain: Plaintext, out: Float64Array, count: number): void {
    this.codec.decode(plain, out, count);
  }

  dispose(): void {
    this.codec.dispose();
    this.zero.delete();
    this.cipher.delete();
    this.encoded.delete();
    this.unseeded.fill(0);
    this.unseededPair.fill(0);
  }
}

/**
 * Masks made ahead for one key: each is handed out once (take removes it) and all are dropped with the key.
 * Holds 8 bytes a value for the defaults (one seeded ciphertext per 4096 values), the size of an upload.
 */
export class MaskStore {
  private readonly masks: Uint8Array[] = [];

  get size(): number {
    return this.masks.length;
  }

  add(mask: Uint8Array): void {
    this.masks.push(mask);
  }

  /** A mask never handed out before, or undefined when none is ready. */
  take(): Uint8Array | undefined {
    return this.masks.pop();
  }

  clear(): void {
    for (const m of this.masks) m.fill(0);
    this.masks.length = 0;
  }
}
