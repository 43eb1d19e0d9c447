import { INT8_BLOCK, type CompressionMethod } from './compression.js';
import { inflateRawSync } from 'node:zlib';
import { COMPRESSED_MAGIC, DEFLATED_INT8_MAGIC, INT8_MAX_LEVEL, int8BodyLength } from './compressedFormat.js';
import { CodecError, MAX_HEADER_BYTES, parseHeader, type TensorStreamHandlers } from './tensorCodec.js';
import { totalParameters } from './tensors.js';

/** Dense values handed on at once (whole int8 blocks): the aggregator stages runs, so fewer, larger runs cost less. */
const RUN_VALUES = 32 * INT8_BLOCK;
/** Top-k pairs read at once. */
const PAIRS_AT_ONCE = 2_048;

/**
 * Decodes a compressed update (compressedFormat.ts) as it streams in, from bytes split at any boundary, into
 * the dense float32 runs a plaintext tensor payload gives (same handlers: `onSpec`, then `onValues` in order,
 * covering every value). Everything a hostile client controls is checked before a value is handed on: the
 * magic, the header, each int8 scale (finite, not negative) and level (-127..127), the top-k count (exactly
 * `topk`), each index (below the model's size and above the one before: no duplicates), each value (finite),
 * and that the payload ends exactly where its layout says. A deflated int8 body is collected (at most its
 * undeflated length and DEFLATE's worst-case overhead), inflated at the end to exactly its expected length (a
 * longer stream stops there: no deflate bomb), and read like an undeflated one.
 */
export class CompressedStreamDecoder {
  private need: Uint8Array = new Uint8Array(8);
  private fill = 0;
  private onFull: (bytes: Uint8Array) => void = (bytes) => this.prefix(bytes);
  private done = false;
  private total = 0;
  /** Values handed on so far (dense), and the run being built. */
  private emitted = 0;
  private run = new Float32Array(0);
  private runFill = 0;
  private pairsLeft = 0;
  private lastIndex = -1;
  /** The deflated body so far (deflated int8 only), and the most it may take. */
  private deflatedParts: Uint8Array[] | undefined;
  private deflatedBytes = 0;
  private deflatedLimit = 0;

  /** `topk`: the count a top-k payload must carry (the coordinator knows k from the run's fraction and the model). */
  constructor(
    private readonly method: CompressionMethod,
    private readonly handlers: TensorStreamHandlers,
    private readonly topk?: number,
    private readonly deflated = false,
  ) {}

  push(bytes: Uint8Array): void {
    if (this.deflatedParts) return this.collect(bytes);
    let pos = 0;
    while (pos < bytes.length) {
      if (this.done) throw new CodecError(`the ${this.method} payload carries ${bytes.length - pos} bytes after its end`);
      const n = Math.min(this.need.length - this.fill, bytes.length - pos);
      this.need.set(bytes.subarray(pos, pos + n), this.fill);
      this.fill += n;
      pos += n;
      if (this.fill === this.need.length) {
        this.fill = 0;
        this.onFull(this.need);
        // The header is read: a deflated body is collected from here, the rest of this chunk included.
        if (this.deflatedParts) return pos < bytes.length ? this.collect(bytes.subarray(pos)) : undefined;
      }
    }
  }

  /** Checks the payload is whole. */
  end(): void {
    if (this.deflatedParts) this.inflate();
    if (!this.done) throw new CodecError(`the ${this.method} payload ended early, after ${this.emitted} of ${this.total || 'its'} values`);
  }

  private expect(bytes: number, next: (bytes: Uint8Array) => void): void {
    if (this.need.length !== bytes) this.need = new Uint8Array(bytes);
    this.onFull = next;
  }

  private prefix(bytes: Uint8Array): void {
    const magic = this.deflated ? DEFLATED_INT8_MAGIC : COMPRESSED_MAGIC[this.method];
    if (magic.some((b, i) => bytes[i] !== b)) throw new CodecError(`not a ${this.deflated ? 'deflated int8' : this.method}-compressed update (bad magic bytes)`);
    const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true);
    if (length === 0 || length > MAX_HEADER_BYTES) throw new CodecError(`tensor header of ${length} bytes is outside 1..${MAX_HEADER_BYTES}`);
    this.expect(length + ((4 - (length % 4)) % 4), (header) => this.header(header.subarray(0, length)));
  }

  private header(bytes: Uint8Array): void {
    const spec = parseHeader(bytes);
    this.total = totalParameters(spec);
    this.handlers.onSpec(spec);
    this.run = new Float32Array(Math.min(RUN_VALUES, this.total));
    if (this.deflated) {
      const raw = int8BodyLength(this.total);
      // zlib's deflateBound (raw + raw/4096 + raw/16384 + 13, for the default settings), rounded up: a body that does
      // not shrink still fits.
      this.deflatedLimit = raw + Math.ceil(raw / 1024) + 1024;
      this.deflatedParts = [];
    }
    if (this.method === 'int8') this.expect(4 + Math.min(INT8_BLOCK, this.total), (block) => this.int8Block(block));
    else this.expect(4, (count) => this.count(count));
  }

  private int8Block(bytes: Uint8Array): void {
    const block = Math.floor(this.emitted / INT8_BLOCK);
    const scale = new DataView(bytes.buffer, bytes.byteOffset, 4).getFloat32(0, true);
    if (!(scale >= 0 && Number.isFinite(scale))) throw new CodecError(`int8 block ${block} has scale ${scale}: a scale must be finite and not negative`);
    const levels = new Int8Array(bytes.buffer, bytes.byteOffset + 4, bytes.length - 4);
    // A run holds whole blocks (RUN_VALUES is a multiple of INT8_BLOCK), so a block is decoded in one tight loop;
    // the Float32Array store rounds level x scale exactly as int8Value does.
    const run = this.run;
    const at = this.runFill;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      if (level < -INT8_MAX_LEVEL) throw new CodecError(`int8 value ${this.emitted + i} has level ${level}, outside -${INT8_MAX_LEVEL}..${INT8_MAX_LEVEL}`);
      run[at + i] = level * scale;
    }
    this.runFill += levels.length;
    this.emitted += levels.length;
    if (this.runFill === run.length) this.flush();
    const left = this.total - this.emitted;
    if (left === 0) this.finish();
    else this.expect(4 + Math.min(INT8_BLOCK, left), (next) => this.int8Block(next));
  }

  private count(bytes: Uint8Array): void {
    const k = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    const expected = this.topk ?? k;
    if (k !== expected || k < 1 || k > this.total) {
      throw new CodecError(`the top-k update carries ${k} values; this run's uploads carry exactly ${this.topk ?? `1 to ${this.total}`} of ${this.total}`);
    }
    this.pairsLeft = k;
    this.expect(8 * Math.min(PAIRS_AT_ONCE, k), (pairs) => this.pairs(pairs));
  }

  private pairs(bytes: Uint8Array): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let at = 0; at < bytes.length; at += 8) {
      const index = view.getUint32(at, true);
      const value = view.getFloat32(at + 4, true);
      if (index >= this.total) throw new CodecError(`top-k index ${index} is out of range: the model has ${this.total} values`);
      if (index <= this.lastIndex) throw new CodecError(`top-k index ${index} follows index ${this.lastIndex}: indices must be strictly increasing (no duplicates)`);
      if (!Number.isFinite(value)) throw new CodecError(`top-k value at index ${index} is ${value}: values must be finite`);
      this.putZeros(index - this.emitted);
      this.put(value);
      this.lastIndex = index;
    }
    this.pairsLeft -= bytes.length / 8;
    if (this.pairsLeft > 0) {
      this.expect(8 * Math.min(PAIRS_AT_ONCE, this.pairsLeft), (next) => this.pairs(next));
      return;
    }
    this.putZeros(this.total - this.emitted);
    this.finish();
  }

  private collect(bytes: Uint8Array): void {
    this.deflatedBytes += bytes.length;
    if (this.deflatedBytes > this.deflatedLimit) throw new CodecError(`the deflated int8 body exceeds ${this.deflatedLimit} bytes, more than its ${this.total} values can need`);
    this.deflatedParts!.push(Uint8Array.prototype.slice.call(bytes));
  }

  /** Inflates the collected body to exactly its expected length, then reads it as an undeflated one. */
  private inflate(): void {
    const parts = this.deflatedParts!;
    this.deflatedParts = undefined;
    const raw = int8BodyLength(this.total);
    let body: Uint8Array;
    try {
      body = inflateRawSync(Buffer.concat(parts), { maxOutputLength: raw });
    } catch (e) {
      throw new CodecError(`the deflated int8 body does not inflate to its ${raw} bytes: ${(e as Error).message}`);
    }
    if (body.length !== raw) throw new CodecError(`the deflated int8 body inflates to ${body.length} bytes, not the ${raw} its ${this.total} values take`);
    this.push(body);
  }

  /** Appends one dense value to the run, handing the run on when it is full. */
  private put(value: number): void {
    this.run[this.runFill++] = value;
    this.emitted++;
    if (this.runFill === this.run.length) this.flush();
  }

  /** Appends n zeros (the values a top-k update dropped), a run at a time. */
  private putZeros(n: number): void {
    while (n > 0) {
      const m = Math.min(n, this.run.length - this.runFill);
      this.run.fill(0, this.runFill, this.runFill + m);
      this.runFill += m;
      this.emitted += m;
      n -= m;
      if (this.runFill === this.run.length) this.flush();
    }
  }

  private flush(): void {
    if (this.runFill === 0) return;
    const offset = this.emitted - this.runFill;
    // Handlers may keep a view only during the call (as with the tensor decoder), so the run is reused.
    this.handlers.onValues(offset, this.run.subarray(0, this.runFill));
    this.runFill = 0;
  }

  private finish(): void {
    this.flush();
    this.done = true;
  }
}
