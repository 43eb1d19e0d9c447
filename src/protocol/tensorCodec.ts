import { endianness } from 'node:os';
import { packChunks } from './chunking.js';
import { sizeOfShape, specMismatch, type TensorSpec, type Weights, type NamedTensor } from './tensors.js';

/**
 * Binary layout of a weights payload (all integers little-endian):
 *   "CHT1" | u32 header byte length | UTF-8 JSON header {"tensors":[{name,shape}]} | zero padding to 4 bytes |
 *   float32 values of every tensor, concatenated in header order.
 * Only the small header is JSON; values are raw float32, never JSON numbers.
 */
const MAGIC = [0x43, 0x48, 0x54, 0x31]; // "CHT1"
const PREFIX_BYTES = 8;
export const MAX_HEADER_BYTES = 1 << 20;
export const MAX_TENSORS = 100_000;

if (endianness() !== 'LE') {
  // Float32Array views are written as-is; a big-endian host would need byte swapping.
  throw new Error('cohort-fl requires a little-endian host');
}

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

function headerBytes(spec: readonly TensorSpec[]): Uint8Array {
  const json = JSON.stringify({ tensors: spec.map((t) => ({ name: t.name, shape: [...t.shape] })) });
  return new TextEncoder().encode(json);
}

function padTo4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Bytes of the header section (prefix, JSON, padding) for a spec. */
export function encodedHeaderLength(spec: readonly TensorSpec[]): number {
  const h = headerBytes(spec).length;
  return PREFIX_BYTES + h + padTo4(h);
}

/** Total encoded size of weights with this spec. */
export function encodedByteLength(spec: readonly TensorSpec[]): number {
  let values = 0;
  for (const t of spec) values += sizeOfShape(t.shape);
  return encodedHeaderLength(spec) + values * 4;
}

/** The header section (prefix, JSON, padding); other payload formats (compressedFormat.ts) pass their own magic. */
export function encodeHeader(spec: readonly TensorSpec[], magic: readonly number[] = MAGIC): Uint8Array {
  const json = headerBytes(spec);
  const out = new Uint8Array(PREFIX_BYTES + json.length + padTo4(json.length));
  out.set(magic, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, PREFIX_BYTES);
  return out;
}

function checkTensor(t: NamedTensor, index: number): void {
  checkSpecEntry(t.name, t.shape, index);
  const expected = sizeOfShape(t.shape);
  if (t.data.length !== expected) {
    throw new CodecError(`tensor "${t.name}" has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${expected}`);
  }
}

/**
 * Encodes weights as chunks of at most `chunkBytes`. Runs of a tensor that fill whole chunks are yielded as
 * views of the tensor's own memory (no copy); small pieces (the header, small tensors, the seams between
 * tensors) are packed into copied chunks. So a 400 MB model streams without a 400 MB copy; the weights
 * must not change until the chunks are sent.
 */
export function* encodeWeightsChunks(weights: Weights, chunkBytes: number): Generator<Uint8Array> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 16) throw new CodecError(`chunkBytes must be an integer >= 16, got ${chunkBytes}`);
  weights.forEach((t, i) => checkTensor(t, i));
  const segments: Uint8Array[] = [encodeHeader(weights)];
  for (const t of weights) segments.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  yield* packChunks(segments, chunkBytes);
}

/** Encodes weights into one buffer. For large models prefer encodeWeightsChunks. */
export function encodeWeights(weights: Weights): Uint8Array {
  const total = encodedByteLength(weights);
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of encodeWeightsChunks(weights, Math.max(16, Math.min(total, 1 << 24)))) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

export interface TensorStreamHandlers {
  /** Called once, when the header is complete; throw to refuse the payload before any value is read. */
  onSpec(spec: TensorSpec[]): void;
  /**
   * Called with runs of values in order; `offset` counts float32 values from the first tensor's start. The
   * array may be a view of the received chunk: it is valid only during the call (copy what you keep).
   */
  onValues(offset: number, values: Float32Array): void;
}

/**
 * Incremental decoder: accepts bytes split at arbitrary boundaries (socket.io delivers Buffers at any
 * byte offset), parses the header, then hands out float32 runs copied into aligned arrays.
 */
export class TensorStreamDecoder {
  private prefix = new Uint8Array(PREFIX_BYTES);
  private prefixFill = 0;
  private header: Uint8Array | undefined;
  private headerFill = 0;
  private padRemaining = 0;
  private spec: TensorSpec[] | undefined;
  private totalValues = 0;
  private valuesSeen = 0;
  private carry = new Uint8Array(4);
  private carryFill = 0;

  constructor(private readonly handlers: TensorStreamHandlers, private readonly maxValues = Number.MAX_SAFE_INTEGER) {}

  push(bytes: Uint8Array): void {
    let pos = 0;
    while (pos < bytes.length) {
      if (this.prefixFill < PREFIX_BYTES) {
        const n = Math.min(PREFIX_BYTES - this.prefixFill, bytes.length - pos);
        this.prefix.set(bytes.subarray(pos, pos + n), this.prefixFill);
        this.prefixFill += n;
        pos += n;
        if (this.prefixFill === PREFIX_BYTES) this.startHeader();
        continue;
      }
      if (this.spec === undefined) {
        const header = this.header!;
        const n = Math.min(header.length - this.headerFill, bytes.length - pos);
        header.set(bytes.subarray(pos, pos + n), this.headerFill);
        this.headerFill += n;
        pos += n;
        if (this.headerFill === header.length) this.finishHeader();
        continue;
      }
      if (this.padRemaining > 0) {
        const n = Math.min(this.padRemaining, bytes.length - pos);
        this.padRemaining -= n;
        pos += n;
        continue;
      }
      pos = this.readValues(bytes, pos);
    }
  }

  /** Checks that exactly the announced number of values arrived. */
  end(): TensorSpec[] {
    if (this.spec === undefined) throw new CodecError('payload ended before its header was complete');
    if (this.carryFill > 0 && this.valuesSeen === this.totalValues) {
      throw new CodecError(`payload carries ${this.carryFill} stray bytes after its ${this.totalValues} values`);
    }
    if (this.padRemaining > 0 || this.carryFill > 0 || this.valuesSeen !== this.totalValues) {
      throw new CodecError(`payload ended after ${this.valuesSeen} of ${this.totalValues} values`);
    }
    return this.spec;
  }

  private startHeader(): void {
    if (MAGIC.some((b, i) => this.prefix[i] !== b)) throw new CodecError('not a cohort tensor payload (bad magic bytes)');
    const length = new DataView(this.prefix.buffer).getUint32(4, true);
    if (length === 0 || length > MAX_HEADER_BYTES) throw new CodecError(`tensor header of ${length} bytes is outside 1..${MAX_HEADER_BYTES}`);
    this.header = new Uint8Array(length);
    this.padRemaining = padTo4(length);
  }

  private finishHeader(): void {
    const spec = parseHeader(this.header!);
    let total = 0;
    for (const t of spec) total += sizeOfShape(t.shape);
    if (total > this.maxValues) throw new CodecError(`payload announces ${total} values, more than the limit of ${this.maxValues}`);
    this.totalValues = total;
    this.spec = spec;
    this.header = undefined;
    this.handlers.onSpec(spec);
  }

  private readValues(bytes: Uint8Array, pos: number): number {
    if (this.carryFill > 0) {
      const n = Math.min(4 - this.carryFill, bytes.length - pos);
      this.carry.set(bytes.subarray(pos, pos + n), this.carryFill);
      this.carryFill += n;
      pos += n;
      if (this.carryFill === 4) {
        this.carryFill = 0;
        this.emit(new Float32Array(this.carry.slice().buffer));
      }
      return pos;
    }
    const whole = Math.floor((bytes.length - pos) / 4);
    if (whole > 0) {
      // A view when the bytes sit at a multiple of 4; socket.io often delivers them at any offset: copy then.
      const at = bytes.byteOffset + pos;
      // (Uint8Array's slice copies; a Node Buffer's slice would be a view of its whole pool.)
      this.emit(at % 4 === 0 ? new Float32Array(bytes.buffer, at, whole) : new Float32Array(Uint8Array.prototype.slice.call(bytes, pos, pos + whole * 4).buffer));
      pos += whole * 4;
    }
    const rest = bytes.length - pos;
    if (rest > 0) {
      this.carry.set(bytes.subarray(pos, pos + rest), 0);
      this.carryFill = rest;
      pos += rest;
    }
    return pos;
  }

  private emit(values: Float32Array): void {
    if (this.valuesSeen + values.length > this.totalValues) {
      throw new CodecError(`payload carries more than the ${this.totalValues} values its header announces`);
    }
    const offset = this.valuesSeen;
    this.valuesSeen += values.length;
    this.handlers.onValues(offset, values);
  }
}

/** Parses and checks a header's JSON (the bytes between the prefix and the padding). */
export function parseHeader(bytes: Uint8Array): TensorSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new CodecError(`tensor header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const tensors = typeof parsed === 'object' && parsed !== null ? (parsed as { tensors?: unknown }).tensors : undefined;
  if (!Array.isArray(tensors)) throw new CodecError('tensor header has no "tensors" array');
  if (tensors.length > MAX_TENSORS) throw new CodecError(`tensor header lists ${tensors.length} tensors, more than ${MAX_TENSORS}`);
  return tensors.map((t: unknown, i: number) => {
    const { name, shape } = (t ?? {}) as { name?: unknown; shape?: unknown };
    checkSpecEntry(name, shape, i);
    return { name: name as string, shape: shape as number[] };
  });
}

/** The same name and shape rules on both ends, so the encoder refuses what the decoder would. */
function checkSpecEntry(name: unknown, shape: unknown, index: number): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024) throw new CodecError(`tensor ${index} has no valid name (1 to 1024 characters)`);
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CodecError(`tensor "${name}" has an invalid shape (expected up to 8 non-negative integers)`);
  }
}

/** Collects a streamed payload into Weights backed by one contiguous Float32Array. */
export class WeightsCollector implements TensorStreamHandlers {
  private flat: Float32Array | undefined;
  private spec: TensorSpec[] | undefined;

  constructor(private readonly expected?: readonly TensorSpec[]) {}

  onSpec(spec: TensorSpec[]): void {
    if (this.expected) {
      const mismatch = specMismatch(this.expected, spec);
      if (mismatch) throw new CodecError(`weights do not match the model: ${mismatch}`);
    }
    let total = 0;
    for (const t of spec) total += sizeOfShape(t.shape);
    this.flat = new Float32Array(total);
    this.spec = spec;
  }

  onValues(offset: number, values: Float32Array): void {
    this.flat!.set(values, offset);
  }

  weights(): Weights {
    if (!this.flat || !this.spec) throw new CodecError('no weights were received');
    const out: NamedTensor[] = [];
    let at = 0;
    for (const t of this.spec) {
      const n = sizeOfShape(t.shape);
      out.push({ name: t.name, shape: t.shape, data: this.flat.subarray(at, at + n) });
      at += n;
    }
    return out;
  }
}

export function decodeWeights(bytes: Uint8Array, expected?: readonly TensorSpec[]): Weights {
  const collector = new WeightsCollector(expected);
  const decoder = new TensorStreamDecoder(collector);
  decoder.push(bytes);
  decoder.end();
  return collector.weights();
}
