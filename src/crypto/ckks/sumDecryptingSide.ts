import type { CkksContext } from './ckksContext.js';
import { CkksError } from './ckksError.js';
import type { SumDecryption } from './sumDecryption.js';

/**
 * The decrypting half of a client's CKKS side (CkksClientSide): reads the sum the coordinator returns, under the
 * key the subclass holds, checking the caller's arguments and rounding the values to `grid` before anyone uses them.
 */
export abstract class CkksSumDecryptingSide {
  protected constructor(protected readonly ctx: CkksContext) {}

  /** Decrypts the sum's ciphertexts under the subclass's key. */
  protected abstract readonly decryption: SumDecryption;

  /** Throws once the side is disposed or its context is. */
  protected abstract check(): void;

  /**
   * Decrypts the coordinator's sum and divides by `totalWeight` (the committed updates' weights added
   * up): the weighted mean, `count` values, padding dropped.
   */
  decryptSum(sum: readonly Uint8Array[], count: number, totalWeight: number): Float32Array {
    const out = new Float32Array(this.checkSum(sum, count, totalWeight));
    this.decryptInto(sum, totalWeight, out, this.grid);
    return out;
  }

  /**
   * decryptSum in float64 and unrounded: the raw decryption, CKKS error included, for measuring that error.
   * Never share what it returns: decrypted CKKS values that carry the encryption error are the precondition of
   * key-recovery attacks (Li and Micciancio 2021); decryptSum rounds it away.
   */
  decryptSumFloat64(sum: readonly Uint8Array[], count: number, totalWeight: number): Float64Array {
    const out = new Float64Array(this.checkSum(sum, count, totalWeight));
    this.decryptInto(sum, totalWeight, out, 0);
    return out;
  }

  /**
   * The grid decrypted sums are rounded to before anyone uses or shares them: 2^16 units of the scale's
   * resolution (2^-24 for the default 2^40 scale), far above the error of a sum of 100 fresh encryptions
   * (at most about 140 units, 1.2e-10: coefficients carry each encryption's error unamplified), so rounding removes the error from almost every value (Li and Micciancio 2021
   * recover the key from decryptions that carry it).
   */
  get grid(): number {
    return 2 ** (16 - this.ctx.parameters.scaleBits);
  }

  private checkSum(sum: readonly Uint8Array[], count: number, totalWeight: number): number {
    this.check();
    if (!Number.isSafeInteger(count) || count < 1) throw new CkksError(`count must be a positive integer, got ${count}`);
    if (!(totalWeight > 0) || !Number.isFinite(totalWeight)) throw new CkksError(`totalWeight must be positive and finite, got ${totalWeight}`);
    const expected = this.ctx.ciphertextCount(count);
    if (sum.length !== expected) throw new CkksError(`a sum of ${count} values has ${expected} ciphertexts, got ${sum.length}`);
    return count;
  }

  /**
   * Decrypts ciphertext `index` of a sum of `count` values into `out` (rounded to the grid, divided by
   * `totalWeight`), for callers that decrypt each ciphertext as it arrives.
   */
  decryptSumPart(index: number, bytes: Uint8Array, totalWeight: number, out: Float32Array): void {
    this.check();
    if (!Number.isInteger(index) || index < 0 || index * this.ctx.valuesPerCiphertext >= out.length) throw new CkksError(`ciphertext ${index} is outside a sum of ${out.length} values`);
    if (!(totalWeight > 0) || !Number.isFinite(totalWeight)) throw new CkksError(`totalWeight must be positive and finite, got ${totalWeight}`);
    this.decryption.decryptOne(index, bytes, totalWeight, out, this.grid);
  }

  /**
   * decryptSumPart for ciphertexts `index` and `index + 1` at once (`second` undefined: `index` alone), decoded
   * through one transform out of NTT form (MaskComposer.decodePair).
   */
  decryptSumPair(index: number, first: Uint8Array, second: Uint8Array | undefined, totalWeight: number, out: Float32Array): void {
    this.check();
    const last = second === undefined ? index : index + 1;
    if (!Number.isInteger(index) || index < 0 || last * this.ctx.valuesPerCiphertext >= out.length) throw new CkksError(`ciphertext ${last} is outside a sum of ${out.length} values`);
    if (!(totalWeight > 0) || !Number.isFinite(totalWeight)) throw new CkksError(`totalWeight must be positive and finite, got ${totalWeight}`);
    if (second === undefined) this.decryption.decryptOne(index, first, totalWeight, out, this.grid);
    else this.decryption.decryptTwo(index, first, second, totalWeight, out, this.grid);
  }

  private decryptInto(sum: readonly Uint8Array[], totalWeight: number, out: Float32Array | Float64Array, grid: number): void {
    for (let index = 0; index < sum.length; index += 2) {
      if (index + 1 < sum.length) this.decryption.decryptTwo(index, sum[index]!, sum[index + 1]!, totalWeight, out, grid);
      else this.decryption.decryptOne(index, sum[index]!, totalWeight, out, grid);
    }
  }
}
