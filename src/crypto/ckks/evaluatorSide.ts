import type { Ciphertext, Evaluator } from 'node-seal';
import type { CkksContext } from './ckksContext.js';
import { CkksError, sealCall } from './ckksError.js';
import { CiphertextFrameParser } from './frames.js';
import { toBytes } from './secretKey.js';
import { checkSeeded, packSeededSum, seededLayout, type SeededLayout } from './seededSum.js';

/** Receives one client's framed, encrypted update while it streams in (frames.ts), in chunks of any size. */
export interface CkksUpdateSink {
  /** Bytes of the framed update; each ciphertext is added into the running sum as soon as it is complete. */
  write(chunk: Uint8Array): void;
  /** Makes the update count; throws (and rolls it back) unless exactly the expected ciphertexts arrived. */
  commit(): void;
  /** Takes the update's ciphertexts back out of the sum: it leaves no trace. */
  abort(reason: string): void;
}

/** Bytes of the seed at the end of a SEAL seed record (prng_seed_type: 8 x u64). */
const SEED_BYTES = 64;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * The coordinator's side of CKKS aggregation: adds encrypted updates into a running encrypted sum and
 * serializes it, with the parameters alone. It holds no key of any kind and has no way to decrypt. Uploads
 * are seeded ciphertexts (uncompressed); the sum goes out seeded too: its c0 and every contributor's seed
 * record (seededSum.ts), about the size of one upload instead of two.
 *
 * One instance per round. Memory: the sum, N/2 values per full ciphertext of 2 * N * primes * 8 bytes
 * (32 bytes a value for the defaults), plus each in-flight update's serialized ciphertexts (16 bytes a
 * value), kept so an aborted update can be subtracted again. Addition modulo q is exact, so subtracting
 * restores the sum bit for bit, and the order in which updates arrive changes nothing.
 */
export class CkksEvaluatorSide {
  /** Ciphertexts per update and in the sum. */
  readonly ciphertextCount: number;
  private readonly evaluator: Evaluator;
  private readonly incoming: Ciphertext;
  private readonly sum: (Ciphertext | undefined)[];
  /** Ciphertexts (committed or in flight) added at each index; the first one becomes the sum itself. */
  private readonly added: number[];
  private readonly open = new Set<() => void>();
  /** Each committed contributor's seed record, per ciphertext index. */
  private readonly records: Uint8Array[][];
  /**
   * Where seeded ciphertexts of these parameters keep c0 and the seed, learnt from the first upload (which SEAL
   * loads whole), with its SEAL header and members (`prefix`), its seed record's bytes before the seed, and an
   * unseeded serialization to load each upload's c0 through (see addC0).
   */
  private layout: { readonly parts: SeededLayout; readonly prefix: Uint8Array; readonly recordHead: Uint8Array; readonly unseeded: Uint8Array; readonly unseededPrefix: number } | undefined;
  private committed = 0;
  private closed = false;
  private disposed = false;

  /** `length`: values per update (the model's parameter count). */
  constructor(private readonly ctx: CkksContext, readonly length: number) {
    ctx.check();
    if (!Number.isSafeInteger(length) || length < 1) throw new CkksError(`length must be a positive integer, got ${length}`);
    this.ciphertextCount = ctx.ciphertextCount(length);
    this.evaluator = new ctx.seal.Evaluator(ctx.context);
    this.incoming = new ctx.seal.Ciphertext();
    this.sum = new Array<Ciphertext | undefined>(this.ciphertextCount).fill(undefined);
    this.added = new Array<number>(this.ciphertextCount).fill(0);
    this.records = Array.from({ length: this.ciphertextCount }, () => []);
  }

  /** Updates committed into the sum. */
  get contributors(): number {
    return this.committed;
  }

  /** Starts receiving one update. Refused once the sum is closed or holds maxContributors updates. */
  accept(): CkksUpdateSink {
    this.check();
    if (this.closed) throw new CkksError('the encrypted sum is closed');
    const parser = new CiphertextFrameParser(this.ctx.maxCiphertextBytes);
    const added: Uint8Array[] = [];
    let done = false;
    const rollback = () => {
      if (done) return;
      done = true;
      this.open.delete(rollback);
      if (this.disposed) return;
      for (let index = added.length - 1; index >= 0; index--) this.remove(index, added[index]!);
    };
    this.open.add(rollback);
    const fail = (e: unknown): never => {
      rollback();
      throw e;
    };
    return {
      write: (chunk) => {
        if (done) throw new CkksError(this.closed ? 'the encrypted sum closed before this update completed' : 'update already finished');
        try {
          for (const bytes of parser.push(chunk)) {
            if (added.length === this.ciphertextCount) throw new CkksError(`update has more than the ${this.ciphertextCount} ciphertexts of ${this.length} values`);
            this.add(added.length, bytes);
            added.push(bytes);
          }
        } catch (e) {
          fail(e);
        }
      },
      commit: () => {
        if (done) throw new CkksError(this.closed ? 'the encrypted sum closed before this update completed' : 'update already finished');
        try {
          parser.end();
          if (added.length !== this.ciphertextCount) throw new CkksError(`update has ${added.length} ciphertexts, expected ${this.ciphertextCount}`);
          if (this.committed >= this.ctx.parameters.maxContributors) {
            throw new CkksError(`the sum already holds ${this.committed} updates, the most these parameters leave headroom for`);
          }
        } catch (e) {
          fail(e);
        }
        done = true;
        this.open.delete(rollback);
        this.committed++;
        const layout = this.layout!.parts;
        added.forEach((bytes, index) => this.records[index]!.push(bytes.slice(bytes.length - layout.record)));
      },
      abort: () => rollback(),
    };
  }

  /**
   * Closes the sum (updates still in flight are rolled back and refused) and serializes it: one full
   * ciphertext per index, compressed as the parameters say. Only a key holder can read it.
   */
  serializeSum(): Uint8Array[] {
    this.check();
    this.closed = true;
    for (const rollback of [...this.open]) rollback();
    if (this.committed === 0) throw new CkksError('no update was committed into the sum');
    const { parts, prefix } = this.layout!;
    const none = this.ctx.seal.ComprModeType.none;
    return this.sum.map((c, index) => {
      if (c === undefined) throw new CkksError(`sum ciphertext ${index} is missing`);
      const whole = sealCall(`serializing sum ciphertext ${index}`, () => toBytes(c.saveToArray(none)));
      return packSeededSum(parts, prefix, whole.subarray(parts.prefix, parts.prefix + parts.c0), this.records[index]!);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const rollback of [...this.open]) rollback();
    for (const c of this.sum) c?.delete();
    this.sum.fill(undefined);
    this.incoming.delete();
    this.evaluator.delete();
  }

  /** Loads one serialized ciphertext and checks it is a fresh CKKS ciphertext of these parameters. */
  private load(index: number, bytes: Uint8Array, into: Ciphertext): void {
    sealCall(`ciphertext ${index} does not load under these CKKS parameters`, () => into.loadFromArray(this.ctx.context, bytes));
    if (into.size() !== 2) throw new CkksError(`ciphertext ${index} has ${into.size()} polynomials, expected 2`);
    if (into.coeffModulusSize() !== this.ctx.dataPrimeCount) throw new CkksError(`ciphertext ${index} is at a lower level than fresh ciphertexts`);
    if (into.scale() !== this.ctx.scale) throw new CkksError(`ciphertext ${index} has scale 2^${Math.log2(into.scale())}, expected 2^${this.ctx.parameters.scaleBits}`);
  }

  /** Refuses what is not an uncompressed seeded ciphertext of these parameters (the sum could not be sent seeded). */
  private checkSeeded(index: number, bytes: Uint8Array): void {
    if (!this.layout) {
      this.load(index, bytes, this.incoming);
      const unseeded = sealCall('measuring a ciphertext of these parameters', () => toBytes(this.incoming.saveToArray(this.ctx.seal.ComprModeType.none)));
      const polynomialBytes = this.ctx.parameters.polyModulusDegree * this.ctx.dataPrimeCount * 8;
      const parts = seededLayout(bytes, unseeded.length, polynomialBytes);
      const unseededPrefix = unseeded.length - 2 * polynomialBytes;
      // c1 = 1: SEAL refuses to make a sum whose c1 is zero ("transparent"); the sum's c1 is never sent.
      const standIn = new Uint8Array(unseeded.length);
      standIn.set(unseeded.subarray(0, unseededPrefix));
      new DataView(standIn.buffer).setBigUint64(unseededPrefix + polynomialBytes, 1n, true);
      const record = bytes.subarray(bytes.length - parts.record);
      this.layout = { parts, prefix: bytes.slice(0, parts.prefix), recordHead: record.slice(0, parts.record - SEED_BYTES), unseeded: standIn, unseededPrefix };
    }
    const { parts, prefix, recordHead } = this.layout;
    checkSeeded(bytes, parts);
    // Every upload's SEAL header and members must be the first one's (SEAL checked those): same parameters,
    // level, scale, size; its seed record the same but for the seed, so every client can expand it.
    if (!equalBytes(bytes.subarray(0, parts.prefix), prefix)) throw new CkksError(`ciphertext ${index} differs from the sum's ciphertexts in its SEAL header (parameters, level, scale or size)`);
    const record = bytes.subarray(bytes.length - parts.record);
    if (!equalBytes(record.subarray(0, recordHead.length), recordHead)) throw new CkksError(`ciphertext ${index} ends in a seed record of another kind than the sum's`);
  }

  /**
   * Loads an upload's c0 alone, beside the stand-in c1, into `into`. The sum goes out as its c0 and the seeds
   * (seededSum.ts), so expanding each upload's seed into c1 here, SEAL's costliest step of loading it, would
   * be wasted; SEAL still checks the c0 coefficients (each below q) as it loads them.
   */
  private loadC0(index: number, bytes: Uint8Array, into: Ciphertext): void {
    const { parts, unseeded, unseededPrefix } = this.layout!;
    unseeded.set(bytes.subarray(parts.prefix, parts.prefix + parts.c0), unseededPrefix);
    this.load(index, unseeded, into);
  }

  private add(index: number, bytes: Uint8Array): void {
    this.checkSeeded(index, bytes);
    const current = this.sum[index];
    if (current === undefined) {
      const first = new this.ctx.seal.Ciphertext();
      try {
        this.loadC0(index, bytes, first);
      } catch (e) {
        first.delete();
        throw e;
      }
      this.sum[index] = first;
    } else {
      this.loadC0(index, bytes, this.incoming);
      sealCall(`adding ciphertext ${index}`, () => this.evaluator.addInplace(current, this.incoming));
    }
    this.added[index]!++;
  }

  private remove(index: number, bytes: Uint8Array): void {
    const current = this.sum[index]!;
    if (this.added[index] === 1) {
      current.delete();
      this.sum[index] = undefined;
    } else {
      this.loadC0(index, bytes, this.incoming);
      sealCall(`taking ciphertext ${index} back out of the sum`, () => this.evaluator.subInplace(current, this.incoming));
    }
    this.added[index]!--;
  }

  private check(): void {
    if (this.disposed) throw new CkksError('the CKKS evaluator side has been disposed');
    this.ctx.check();
  }
}
