import type { CKKSEncoder, ClassHandle, Encryptor, Evaluator, SecretKey } from 'node-seal';
import type { CkksContext } from './ckksContext.js';
import { CkksError, sealErrorText } from './ckksError.js';
import { scaleAndClip } from './headroom.js';
import { generateSecretKey, loadSecretKey, saveSecretKey } from './secretKey.js';
import { MaskComposer, MaskStore } from './maskedEncryption.js';
import { SumDecryption } from './sumDecryption.js';
import { CkksSumDecryptingSide } from './sumDecryptingSide.js';

/** One client's update, encrypted: what it uploads, framed by frames.ts. */
export interface CkksEncryptedUpdate {
  /** SEAL-serialized seeded ciphertexts, one per `valuesPerCiphertext` values, in order. */
  readonly ciphertexts: readonly Uint8Array[];
  /** Values encrypted (the model's parameter count); the last ciphertext is zero padded past it. */
  readonly length: number;
  /** Weighted values clipped to +-contributionBound so the sum cannot wrap around. */
  readonly clipped: number;
  /** Total serialized ciphertext bytes (framing adds 4 bytes per ciphertext and 4 in all). */
  readonly byteLength: number;
}

/** One ciphertext's worth of an update. */
export interface CkksEncryptedSlice {
  readonly bytes: Uint8Array;
  readonly clipped: number;
}

/**
 * A client's CKKS side: it holds the federation's secret key and encrypts its own update (symmetric,
 * seeded: the second polynomial travels as a 64-byte seed, halving the size) and decrypts the sum the
 * coordinator returns. Holds SEAL objects until `dispose()`.
 */
export class CkksClientSide extends CkksSumDecryptingSide {
  private readonly key: SecretKey;
  private readonly encryptor: Encryptor;
  private readonly encoder: CKKSEncoder;
  private readonly evaluator: Evaluator;
  protected readonly decryption: SumDecryption;
  /** A pair of ciphertexts' values, weighted and clipped before encryption. */
  private readonly slots: Float64Array;
  private readonly slotsSecond: Float64Array;
  private readonly composer: MaskComposer;
  /** Masks made ahead (precomputeMasks) under this side's key; each encrypts one ciphertext, then is gone. */
  private readonly masks = new MaskStore();
  private disposed = false;

  private constructor(ctx: CkksContext, key: SecretKey) {
    super(ctx);
    const seal = ctx.seal;
    const made: ClassHandle[] = [];
    const keep = <T extends ClassHandle>(x: T): T => (made.push(x), x);
    let composer: MaskComposer | undefined;
    try {
      // node-seal 7 binds Encryptor(context, publicKey[, secretKey]) only: a public key is derived here
      // for the constructor and freed at once. Only encryptSymmetric* is ever called.
      const generator = keep(new seal.KeyGenerator(ctx.context, key));
      const publicKey = keep(generator.createPublicKey());
      this.encryptor = new seal.Encryptor(ctx.context, publicKey, key);
      made.push(this.encryptor);
      this.encoder = keep(new seal.CKKSEncoder(ctx.context));
      this.evaluator = keep(new seal.Evaluator(ctx.context));
      composer = new MaskComposer(ctx, this.encryptor, this.encoder, this.evaluator);
      this.decryption = new SumDecryption(ctx, key, composer, this.evaluator);
      this.composer = composer;
      publicKey.delete();
      generator.delete();
    } catch (e) {
      composer?.dispose();
      for (const x of made) if (!x.isDeleted()) x.delete();
      key.delete();
      throw new CkksError(`setting up the CKKS client: ${sealErrorText(e)}`, { cause: e });
    }
    this.key = key;
    this.slots = new Float64Array(ctx.valuesPerCiphertext);
    this.slotsSecond = new Float64Array(ctx.valuesPerCiphertext);
  }

  /** The dealer: generates the federation's secret key. */
  static generate(ctx: CkksContext): CkksClientSide {
    return new CkksClientSide(ctx, generateSecretKey(ctx));
  }

  /** Another client: loads the key the dealer exported (after opening the box it came in). */
  static importSecretKey(ctx: CkksContext, bytes: Uint8Array): CkksClientSide {
    return new CkksClientSide(ctx, loadSecretKey(ctx, bytes));
  }

  /** The secret key, serialized, for the dealer to box to each allowed client. Never send it in clear. */
  exportSecretKey(): Uint8Array {
    this.check();
    return saveSecretKey(this.ctx, this.key);
  }

  /** Encrypts values the caller has already weighted; same as encryptScaled(values, 1). */
  encrypt(values: Float32Array): CkksEncryptedUpdate {
    return this.encryptScaled(values, 1);
  }

  /**
   * Encrypts weight * values (FedAvg: weight = the client's example count), clipped to
   * +-contributionBound, as ceil(length / valuesPerCiphertext) ciphertexts.
   */
  encryptScaled(values: Float32Array, weight: number): CkksEncryptedUpdate {
    const count = this.ctx.ciphertextCount(values.length);
    if (count === 0) throw new CkksError('cannot encrypt an empty update');
    const ciphertexts: Uint8Array[] = [];
    let clipped = 0;
    let byteLength = 0;
    for (let index = 0; index < count; index += 2) {
      for (const slice of this.encryptPair(values, weight, index)) {
        ciphertexts.push(slice.bytes);
        clipped += slice.clipped;
        byteLength += slice.bytes.length;
      }
    }
    return { ciphertexts, length: values.length, clipped, byteLength };
  }

  /**
   * weight * values as a stream of ciphertexts, encrypted one at a time as the caller pulls them (so encrypting
   * overlaps sending), with the counts a header needs known up front: every ciphertext of these parameters
   * serializes (uncompressed) to the same size, which the first one measures; a different size throws.
   */
  encryptStream(values: Float32Array, weight: number): { readonly count: number; readonly ciphertextBytes: number; readonly clipped: number; readonly ciphertexts: Iterable<Uint8Array> } {
    const { count, clipped } = this.checkUpdate(values, weight);
    const firstPair = this.encryptPair(values, weight, 0);
    const size = firstPair[0]!.bytes.length;
    const encryptPair = (index: number) => this.encryptPair(values, weight, index);
    function* ciphertexts(): Generator<Uint8Array> {
      for (let index = 0; index < count; index += 2) {
        const pair = index === 0 ? firstPair : encryptPair(index);
        for (const [k, { bytes }] of pair.entries()) {
          if (bytes.length !== size) throw new CkksError(`ciphertext ${index + k} serialized to ${bytes.length} bytes, not the ${size} its stream announced`);
          yield bytes;
        }
      }
    }
    return { count, ciphertextBytes: size, clipped, ciphertexts: ciphertexts() };
  }

  /**
   * Checks an update before any of it is encrypted (every value finite, the weight positive) and counts the
   * weighted values beyond +-contributionBound, which encryption clips: what a stream's header needs up front.
   */
  checkUpdate(values: Float32Array, weight: number): { readonly count: number; readonly clipped: number } {
    this.check();
    const count = this.ctx.ciphertextCount(values.length);
    if (count === 0) throw new CkksError('cannot encrypt an empty update');
    if (!(weight > 0) || !Number.isFinite(weight)) throw new CkksError(`update weight must be positive and finite, got ${weight}`);
    let clipped = 0;
    const bound = this.ctx.contributionBound;
    for (let i = 0; i < values.length; i++) {
      const v = weight * values[i]!;
      if (!Number.isFinite(v)) throw new CkksError(`update value ${i} is ${values[i]}: values must be finite`);
      if (v > bound || v < -bound) clipped++;
    }
    return { count, clipped };
  }

  /** Bytes of every seeded ciphertext of these parameters, serialized uncompressed. */
  get ciphertextBytes(): number {
    return this.composer.ciphertextBytes;
  }

  /** Encrypts ciphertext `index` of an update alone, for callers that stream without holding it all. */
  encryptSlice(values: Float32Array, weight: number, index: number): CkksEncryptedSlice {
    this.check();
    if (!(weight > 0) || !Number.isFinite(weight)) throw new CkksError(`update weight must be positive and finite, got ${weight}`);
    const from = index * this.ctx.valuesPerCiphertext;
    if (!Number.isInteger(index) || index < 0 || from >= values.length) {
      throw new CkksError(`ciphertext ${index} is outside an update of ${values.length} values`);
    }
    const clipped = scaleAndClip(values, from, weight, this.ctx.contributionBound, this.slots);
    // A mask made ahead, or one made now: either way SEAL's seeded encryption of zero, used once. Uncompressed
    // (zstd gains nothing on uniform coefficients): the coordinator takes the seed record off the end to send
    // the sum seeded (seededSum.ts).
    const mask = this.masks.take() ?? this.composer.makeMask();
    try {
      return { bytes: this.composer.compose(mask, this.slots), clipped };
    } catch (e) {
      throw e instanceof CkksError ? new CkksError(`encrypting ciphertext ${index}: ${e.message}`, { cause: e }) : e;
    } finally {
      mask.fill(0);
    }
  }

  /**
   * Encrypts ciphertexts `index` and `index + 1` of an update (the second only if the update reaches it) at
   * the cost of about one: MaskComposer.composePair.
   */
  encryptPair(values: Float32Array, weight: number, index: number): CkksEncryptedSlice[] {
    const n = this.ctx.valuesPerCiphertext;
    if ((index + 1) * n >= values.length) return [this.encryptSlice(values, weight, index)];
    this.check();
    if (!(weight > 0) || !Number.isFinite(weight)) throw new CkksError(`update weight must be positive and finite, got ${weight}`);
    if (!Number.isInteger(index) || index < 0) throw new CkksError(`ciphertext ${index} is outside an update of ${values.length} values`);
    const bound = this.ctx.contributionBound;
    const clippedFirst = scaleAndClip(values, index * n, weight, bound, this.slots);
    const clippedSecond = scaleAndClip(values, (index + 1) * n, weight, bound, this.slotsSecond);
    const firstMask = this.masks.take() ?? this.composer.makeMask();
    const secondMask = this.masks.take() ?? this.composer.makeMask();
    try {
      const [first, second] = this.composer.composePair(firstMask, secondMask, this.slots, this.slotsSecond);
      return [{ bytes: first, clipped: clippedFirst }, { bytes: second, clipped: clippedSecond }];
    } catch (e) {
      throw e instanceof CkksError ? new CkksError(`encrypting ciphertexts ${index} and ${index + 1}: ${e.message}`, { cause: e }) : e;
    } finally {
      firstMask.fill(0);
      secondMask.fill(0);
    }
  }

  /**
   * Makes masks (the update-independent half of encryption, maskedEncryption.ts) until `count` are ready, so
   * that encrypting the next `count` ciphertexts costs only encoding and one addition each. Returns how many
   * were made. Masks belong to this side's key and are dropped with it (dispose).
   */
  precomputeMasks(count: number): number {
    this.check();
    let made = 0;
    while (this.masks.size < count) {
      this.masks.add(this.composer.makeMask());
      made++;
    }
    return made;
  }

  /** Masks ready for the next ciphertexts. */
  get masksReady(): number {
    return this.masks.size;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.masks.clear();
    this.decryption.dispose();
    this.composer.dispose();
    for (const x of [this.encryptor, this.encoder, this.evaluator, this.key]) x.delete();
  }

  protected check(): void {
    if (this.disposed) throw new CkksError('the CKKS client side has been disposed');
    this.ctx.check();
  }
}
