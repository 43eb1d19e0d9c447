import type { Ciphertext, Evaluator, Plaintext } from 'node-seal';
import type { CkksContext } from './ckksContext.js';
import { CkksError, sealCall } from './ckksError.js';
import { toBytes } from './secretKey.js';

const TWO_32 = 4294967296;

/**
 * Coefficient encoding: N values per ciphertext, written as the plaintext polynomial's coefficients, each
 * round(value x scale) mod q. Secure aggregation only adds, and addition is coefficient-wise, so the slots of
 * SEAL's CKKS encoder (N/2 values through an FFT) are not needed: this packs twice the values per ciphertext
 * (half the ciphertexts, bytes, masks and seed expansions) and replaces the FFT with SEAL's NTT. Encryption
 * and decryption stay SEAL's; only the embedding of values into Z_q is done here, as integers.
 *
 * SEAL holds CKKS plaintexts and ciphertexts in NTT form and transforms ciphertexts only, so a polynomial goes
 * through a ciphertext: its first polynomial carries the values, the second a constant 1 that is never read
 * (SEAL refuses to add into a ciphertext whose second polynomial is zero, "transparent").
 *
 * Headroom: |coefficient| = scale x |value| exactly, so a sum decodes while scale x |sum| plus the noise stays
 * below q/2 (headroom.ts's sumBound).
 */
export class CoefficientCodec {
  private readonly coefficientForm: Uint8Array;
  private readonly nttForm: Uint8Array;
  /** Where the first polynomial starts in both serializations, and its length (N words of 8 bytes). */
  private readonly prefix: number;
  private readonly polynomialBytes: number;
  private readonly qHigh: number;
  private readonly qLow: number;
  private readonly work: Ciphertext;
  private readonly view: DataView;

  /** `unseeded`: an unseeded, uncompressed NTT-form ciphertext of these parameters (its header is reused). */
  constructor(
    private readonly ctx: CkksContext,
    private readonly evaluator: Evaluator,
    unseeded: Uint8Array,
  ) {
    if (ctx.dataPrimeCount !== 1) throw new CkksError(`coefficient encoding supports one data prime, these parameters have ${ctx.dataPrimeCount}`);
    const n = ctx.parameters.polyModulusDegree;
    this.polynomialBytes = n * 8;
    this.prefix = unseeded.length - 2 * this.polynomialBytes;
    this.qHigh = Number(ctx.dataModulus >> 32n);
    this.qLow = Number(ctx.dataModulus & 0xffffffffn);
    this.work = new ctx.seal.Ciphertext();
    try {
      this.nttForm = standIn(unseeded, this.prefix, this.polynomialBytes);
      // The coefficient-form header: SEAL's own, from transforming a ciphertext out of NTT form.
      this.work.loadFromArray(ctx.context, this.nttForm);
      sealCall('leaving NTT form', () => evaluator.cipherTransformFromNttInplace(this.work));
      const coefficients = toBytes(this.work.saveToArray(ctx.seal.ComprModeType.none));
      this.coefficientForm = standIn(coefficients, this.prefix, this.polynomialBytes);
    } catch (e) {
      this.work.delete();
      throw e instanceof CkksError ? e : new CkksError(`setting up coefficient encoding: ${String(e)}`, { cause: e });
    }
    this.view = new DataView(this.coefficientForm.buffer, this.prefix, this.polynomialBytes);
  }

  /** Values per ciphertext: N. */
  get valuesPerCiphertext(): number {
    return this.ctx.parameters.polyModulusDegree;
  }

  /**
   * Loads `values` (N of them, each within the headroom) into `into` as the first polynomial of an NTT-form
   * ciphertext at the context's scale, ready to add to a mask's.
   */
  encodeInto(values: Float64Array, into: Ciphertext): void {
    const { scale } = this.ctx;
    const view = this.view;
    for (let i = 0; i < values.length; i++) {
      // Exact: scaling by a power of two, and a rounded double below 2^63 splits exactly into 32-bit halves.
      const t = Math.round(values[i]! * scale);
      let high = Math.floor(t / TWO_32);
      let low = t - high * TWO_32;
      if (t < 0) {
        // q + t, carried by hand in two 32-bit halves (q needs 60 bits, more than a double holds exactly).
        low += this.qLow;
        high += this.qHigh;
        if (low >= TWO_32) {
          low -= TWO_32;
          high += 1;
        }
      }
      view.setUint32(8 * i, low, true);
      view.setUint32(8 * i + 4, high, true);
    }
    for (let i = values.length; i < this.valuesPerCiphertext; i++) view.setBigUint64(8 * i, 0n, true);
    sealCall('loading encoded values', () => into.loadFromArray(this.ctx.context, this.coefficientForm));
    sealCall('transforming encoded values to NTT form', () => this.evaluator.cipherTransformToNttInplace(into));
  }

  /**
   * The values of a decrypted plaintext (NTT form, SEAL's CKKS layout), centred modulo q and divided by the
   * scale, written to out[0 .. count).
   */
  decode(plain: Plaintext, out: Float64Array, count: number): void {
    const saved = sealCall('reading the decrypted plaintext', () => toBytes(plain.saveToArray(this.ctx.seal.ComprModeType.none)));
    if (saved.length < this.polynomialBytes) throw new CkksError(`a decrypted plaintext of ${saved.length} bytes holds no polynomial of ${this.polynomialBytes}`);
    this.nttForm.set(saved.subarray(saved.length - this.polynomialBytes), this.prefix);
    const coefficients = sealCall('leaving NTT form', () => {
      this.work.loadFromArray(this.ctx.context, this.nttForm);
      this.evaluator.cipherTransformFromNttInplace(this.work);
      return toBytes(this.work.saveToArray(this.ctx.seal.ComprModeType.none));
    });
    const view = new DataView(coefficients.buffer, coefficients.byteOffset + this.prefix, this.polynomialBytes);
    const { scale } = this.ctx;
    const halfHigh = this.qHigh / 2;
    for (let i = 0; i < count; i++) {
      const low = view.getUint32(8 * i, true);
      const high = view.getUint32(8 * i + 4, true);
      // Centred: a coefficient above q/2 stands for coefficient - q (to within one unit of 2^32, far below the scale).
      const value = high >= halfHigh ? (high - this.qHigh) * TWO_32 + (low - this.qLow) : high * TWO_32 + low;
      out[i] = value / scale;
    }
  }

  dispose(): void {
    this.work.delete();
    this.coefficientForm.fill(0);
    this.nttForm.fill(0);
  }
}

/** A copy of an unseeded serialization with a zero first polynomial and the constant 1 as the second. */
function standIn(unseeded: Uint8Array, prefix: number, polynomialBytes: number): Uint8Array {
  const out = new Uint8Array(prefix + 2 * polynomialBytes);
  out.set(unseeded.subarray(0, prefix));
  new DataView(out.buffer).setBigUint64(prefix + polynomialBytes, 1n, true);
  return out;
}
