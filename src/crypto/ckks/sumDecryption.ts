import type { Ciphertext, ClassHandle, Decryptor, Evaluator, Plaintext, SecretKey } from 'node-seal';
import type { CkksContext } from './ckksContext.js';
import { CkksError, sealCall } from './ckksError.js';
import type { MaskComposer } from './maskedEncryption.js';
import { isSeededSum, notSeededSum, seededParts } from './seededSum.js';

/**
 * Decryption of the coordinator's seeded sums (seededSum.ts) under a client's key, one ciphertext or a pair at
 * a time: a pair is decoded through one transform out of NTT form (MaskComposer.decodePair). Values are
 * rounded to `grid` (0: not rounded) and divided by the total weight. Every key holder decrypts a sum the same
 * way, so all clients hold the same model to the bit. Holds SEAL objects until `dispose()`.
 */
export class SumDecryption {
  private readonly decryptor: Decryptor;
  private readonly plain: Plaintext;
  private readonly plainSecond: Plaintext;
  private readonly cipher: Ciphertext;
  /** A seeded part of the sum being rebuilt (added to `cipher` by the evaluator). */
  private readonly part: Ciphertext;
  private readonly slots: Float64Array;
  private readonly slotsSecond: Float64Array;

  constructor(
    private readonly ctx: CkksContext,
    key: SecretKey,
    private readonly composer: MaskComposer,
    private readonly evaluator: Evaluator,
  ) {
    const seal = ctx.seal;
    const made: ClassHandle[] = [];
    const keep = <T extends ClassHandle>(x: T): T => (made.push(x), x);
    try {
      this.decryptor = keep(new seal.Decryptor(ctx.context, key));
      this.plain = keep(new seal.Plaintext());
      this.plainSecond = keep(new seal.Plaintext());
      this.cipher = keep(new seal.Ciphertext());
      this.part = keep(new seal.Ciphertext());
    } catch (e) {
      for (const x of made) x.delete();
      throw e;
    }
    this.slots = new Float64Array(ctx.valuesPerCiphertext);
    this.slotsSecond = new Float64Array(ctx.valuesPerCiphertext);
  }

  /** Decrypts ciphertext `index` of a sum into out[index * N ...]. */
  decryptOne(index: number, bytes: Uint8Array, totalWeight: number, out: Float32Array | Float64Array, grid: number): void {
    const n = this.valuesIn(index, out.length);
    sealCall(`decrypting ciphertext ${index} of the sum`, () => {
      this.decryptToPlain(index, bytes, this.plain);
      this.composer.decode(this.plain, this.slots, n);
    });
    this.finishValues(index, this.slots, n, totalWeight, out, grid);
  }

  /** Decrypts ciphertexts `index` and `index + 1` of a sum into out[index * N ...], decoded at once. */
  decryptTwo(index: number, first: Uint8Array, second: Uint8Array, totalWeight: number, out: Float32Array | Float64Array, grid: number): void {
    const nFirst = this.valuesIn(index, out.length);
    const nSecond = this.valuesIn(index + 1, out.length);
    sealCall(`decrypting ciphertexts ${index} and ${index + 1} of the sum`, () => {
      this.decryptToPlain(index, first, this.plain);
      this.decryptToPlain(index + 1, second, this.plainSecond);
      if (!this.composer.decodePair(this.plain, this.plainSecond, this.slots, nFirst, this.slotsSecond, nSecond)) {
        this.composer.decode(this.plain, this.slots, nFirst);
        this.composer.decode(this.plainSecond, this.slotsSecond, nSecond);
      }
    });
    this.finishValues(index, this.slots, nFirst, totalWeight, out, grid);
    this.finishValues(index + 1, this.slotsSecond, nSecond, totalWeight, out, grid);
  }

  dispose(): void {
    for (const x of [this.decryptor, this.plain, this.plainSecond, this.cipher, this.part]) x.delete();
  }

  private valuesIn(index: number, length: number): number {
    return Math.min(this.ctx.valuesPerCiphertext, length - index * this.ctx.valuesPerCiphertext);
  }

  private decryptToPlain(index: number, bytes: Uint8Array, plain: Plaintext): void {
    this.loadSum(bytes);
    if (this.cipher.scale() !== this.ctx.scale) throw new CkksError(`sum ciphertext ${index} has scale ${this.cipher.scale()}, expected ${this.ctx.scale}`);
    this.decryptor.decrypt(this.cipher, plain);
  }

  /**
   * Loads one ciphertext of the sum into `cipher`: a seeded sum is rebuilt by SEAL from its parts (the sum's
   * c0 with the first seed, then each other contributor's seed over a zero c0, added).
   */
  private loadSum(bytes: Uint8Array): void {
    if (!isSeededSum(bytes)) throw new CkksError(notSeededSum(bytes));
    let first = true;
    for (const part of seededParts(bytes)) {
      if (first) {
        this.cipher.loadFromArray(this.ctx.context, part);
        first = false;
      } else {
        this.part.loadFromArray(this.ctx.context, part);
        this.evaluator.addInplace(this.cipher, this.part);
      }
    }
  }

  /** Rounds decoded values to the grid (grid 0: unrounded) and divides by the total weight, into out from ciphertext `index`. */
  private finishValues(index: number, decoded: Float64Array, n: number, totalWeight: number, out: Float32Array | Float64Array, grid: number): void {
    const from = index * this.ctx.valuesPerCiphertext;
    if (grid > 0) for (let j = 0; j < n; j++) out[from + j] = (Math.round(decoded[j]! / grid) * grid) / totalWeight;
    else for (let j = 0; j < n; j++) out[from + j] = decoded[j]! / totalWeight;
  }
}
