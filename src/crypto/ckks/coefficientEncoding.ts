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
  /** Stand-ins whose second polynomial is the constant 1 (one ciphertext's values) or free (a pair's). */
  private readonly coefficientForm: Uint8Array;
  private readonly pairForm: Uint8Array;
  private readonly nttForm: Uint8Array;
  private readonly nttPair: Uint8Array;
  /** Where the first polynomial starts in both serializations, and its length (N words of 8 bytes). */
  private readonly prefix: number;
  private readonly polynomialBytes: number;
  private readonly qHigh: number;
  private readonly qLow: number;
  private readonly work: Ciphertext;
  private readonly coefficientView: DataView;
  private readonly pairView: DataView;

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
      this.pairForm = this.coefficientForm.slice();
      this.nttPair = this.nttForm.slice();
    } catch (e) {
      this.work.delete();
      throw e instanceof CkksError ? e : new CkksError(`setting up coefficient encoding: ${String(e)}`, { cause: e });
    }
    this.coefficientView = new DataView(this.coefficientForm.buffer, this.prefix, this.polynomialBytes);
    this.pairView = new DataView(this.pairForm.buffer, this.prefix, 2 * this.polynomialBytes);
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
    writeCoefficients(this.coefficientView, 0, this.valuesPerCiphertext, values, this.ctx.scale, this.qHigh, this.qLow);
    this.toNtt(this.coefficientForm, into);
  }

  /**
   * Two ciphertexts' values at once: `first` as the first polynomial of `into` and `second` as the second, so
   * one transform to NTT form (SEAL transforms both polynomials of a ciphertext) serves two ciphertexts.
   * Returns false, transforming nothing, when `second` encodes to the zero polynomial: SEAL refuses a
   * ciphertext whose second polynomial is zero ("transparent"); encode the first alone then (its ciphertext's
   * partner is its mask unchanged).
   */
  encodePairInto(first: Float64Array, second: Float64Array, into: Ciphertext): boolean {
    const { scale } = this.ctx;
    writeCoefficients(this.pairView, 0, this.valuesPerCiphertext, first, scale, this.qHigh, this.qLow);
    if (!writeCoefficients(this.pairView, this.polynomialBytes, this.valuesPerCiphertext, second, scale, this.qHigh, this.qLow)) return false;
    this.toNtt(this.pairForm, into);
    return true;
  }

  /**
   * The values of a decrypted plaintext (NTT form, SEAL's CKKS layout), centred modulo q and divided by the
   * scale, written to out[0 .. count).
   */
  decode(plain: Plaintext, out: Float64Array, count: number): void {
    this.nttForm.set(this.polynomialOf(plain), this.prefix);
    const coefficients = this.fromNtt(this.nttForm);
    this.readValues(coefficients, 0, out, count);
  }

  /**
   * decode for two plaintexts through one transform out of NTT form (the first as a ciphertext's first
   * polynomial, the second as its second). Returns false, decoding nothing, when the second plaintext is the
   * zero polynomial (SEAL's "transparent" refusal): decode each alone then.
   */
  decodePair(first: Plaintext, second: Plaintext, outFirst: Float64Array, countFirst: number, outSecond: Float64Array, countSecond: number): boolean {
    const secondPolynomial = this.polynomialOf(second);
    if (isZero(secondPolynomial)) return false;
    this.nttPair.set(this.polynomialOf(first), this.prefix);
    this.nttPair.set(secondPolynomial, this.prefix + this.polynomialBytes);
    const coefficients = this.fromNtt(this.nttPair);
    this.readValues(coefficients, 0, outFirst, countFirst);
    this.readValues(coefficients, this.polynomialBytes, outSecond, countSecond);
    return true;
  }

  private polynomialOf(plain: Plaintext): Uint8Array {
    const saved = sealCall('reading the decrypted plaintext', () => toBytes(plain.saveToArray(this.ctx.seal.ComprModeType.none)));
    if (saved.length < this.polynomialBytes) throw new CkksError(`a decrypted plaintext of ${saved.length} bytes holds no polynomial of ${this.polynomialBytes}`);
    return saved.subarray(saved.length - this.polynomialBytes);
  }

  private toNtt(coefficientForm: Uint8Array, into: Ciphertext): void {
    sealCall('loading encoded values', () => into.loadFromArray(this.ctx.context, coefficientForm));
    sealCall('transforming encoded values to NTT form', () => this.evaluator.cipherTransformToNttInplace(into));
  }

  private fromNtt(nttForm: Uint8Array): Uint8Array {
    return sealCall('leaving NTT form', () => {
      this.work.loadFromArray(this.ctx.context, nttForm);
      this.evaluator.cipherTransformFromNttInplace(this.work);
      return toBytes(this.work.saveToArray(this.ctx.seal.ComprModeType.none));
    });
  }

  /** Reads polynomial coefficients (at `offset` past the prefix) centred modulo q and divided by the scale. */
  private readValues(coefficients: Uint8Array, offset: number, out: Float64Array, count: number): void {
    const view = new DataView(coefficients.buffer, coefficients.byteOffset + this.prefix + offset, this.polynomialBytes);
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
    for (const buffer of [this.coefficientForm, this.pairForm, this.nttForm, this.nttPair]) buffer.fill(0);
  }
}

/**
 * Writes round(value x scale) mod q for each value, as 64-bit little-endian words from `offset` of `view`,
 * zero from there up to `words` words. Returns whether any word is non-zero.
 */
function writeCoefficients(view: DataView, offset: number, words: number, values: Float64Array, scale: number, qHigh: number, qLow: number): boolean {
  let any = false;
  for (let i = 0; i < values.length; i++) {
    // Exact: scaling by a power of two, and a rounded double below 2^63 splits exactly into 32-bit halves.
    const t = Math.round(values[i]! * scale);
    if (t === 0) {
      view.setUint32(offset + 8 * i, 0, true);
      view.setUint32(offset + 8 * i + 4, 0, true);
      continue;
    }
    any = true;
    let high = Math.floor(t / TWO_32);
    let low = t - high * TWO_32;
    if (t < 0) {
      // q + t, carried by hand in two 32-bit halves (q needs 60 bits, more than a double holds exactly).
      low += qLow;
      high += qHigh;
      if (low >= TWO_32) {
        low -= TWO_32;
        high += 1;
      }
    }
    view.setUint32(offset + 8 * i, low, true);
    view.setUint32(offset + 8 * i + 4, high, true);
  }
  for (let i = values.length; i < words; i++) {
    view.setUint32(offset + 8 * i, 0, true);
    view.setUint32(offset + 8 * i + 4, 0, true);
  }
  return any;
}

function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** A copy of an unseeded serialization with a zero first polynomial and the constant 1 as the second. */
function standIn(unseeded: Uint8Array, prefix: number, polynomialBytes: number): Uint8Array {
  const out = new Uint8Array(prefix + 2 * polynomialBytes);
  out.set(unseeded.subarray(0, prefix));
  new DataView(out.buffer).setBigUint64(prefix + polynomialBytes, 1n, true);
  return out;
}
