import { deflateRawSync } from 'node:zlib';
import { packChunks } from './chunking.js';
import { INT8_BLOCK, type CompressionMethod } from './compression.js';
import { CodecError, encodeHeader, encodedHeaderLength } from './tensorCodec.js';
import { totalParameters, type TensorSpec } from './tensors.js';

/**
 * Wire layouts of compressed updates (little-endian). Both start with the tensor payload's header section
 * (magic, u32 length, JSON spec, padding to 4 bytes; tensorCodec.ts) under their own magic, then:
 *   int8 ("CHQ8"): for each block of 512 values of the flat update (the last may be shorter): f32 scale, then
 *                  one int8 level per value in -127..127; the value is level x scale.
 *   int8, deflated ("CHQZ"): the int8 body above as one raw DEFLATE stream (RFC 1951).
 *   topk ("CHK1"): u32 count k, then k pairs (u32 index, f32 value), indices strictly increasing; every other
 *                  value is zero.
 * The coordinator decodes either into the dense float32 runs its aggregators read (compressedStreamDecoder.ts).
 */
export const COMPRESSED_MAGIC: Readonly<Record<CompressionMethod, readonly number[]>> = {
  int8: [0x43, 0x48, 0x51, 0x38], // "CHQ8"
  topk: [0x43, 0x48, 0x4b, 0x31], // "CHK1"
};
export const DEFLATED_INT8_MAGIC: readonly number[] = [0x43, 0x48, 0x51, 0x5a]; // "CHQZ"

/** The most a level may be in magnitude: 255 symmetric levels, so -128 never appears on the wire. */
export const INT8_MAX_LEVEL = 127;

/** An update quantized to 8 bits: one float32 scale per block of INT8_BLOCK values. */
export interface QuantizedUpdate {
  readonly method: 'int8';
  readonly spec: readonly TensorSpec[];
  readonly scales: Float32Array;
  readonly levels: Int8Array;
  /** The body travels deflated. */
  readonly deflate?: boolean;
}

/** An update sparsified to its top k values: indices strictly increasing. */
export interface SparseUpdate {
  readonly method: 'topk';
  readonly spec: readonly TensorSpec[];
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

export type CompressedUpdate = QuantizedUpdate | SparseUpdate;

/** The value a level stands for: rounded to float32 the same way on both ends, so the client knows what the coordinator reads. */
export function int8Value(level: number, scale: number): number {
  return Math.fround(level * scale);
}

/** Bytes of the int8 body (scales and levels) of `total` values, before any deflating. */
export function int8BodyLength(total: number): number {
  return 4 * Math.ceil(total / INT8_BLOCK) + total;
}

/** Encoded bytes of a compressed update of this spec (k: the values a top-k update keeps), undeflated. */
export function compressedByteLength(method: CompressionMethod, spec: readonly TensorSpec[], k = 0): number {
  const total = totalParameters(spec);
  const body = method === 'int8' ? int8BodyLength(total) : 4 + 8 * k;
  return encodedHeaderLength(spec) + body;
}

/** The encoded update as two segments, header and body (a quarter of the model or less: built whole). */
export function encodeCompressed(update: CompressedUpdate): [Uint8Array, Uint8Array] {
  if (update.method === 'topk') return [encodeHeader(update.spec, COMPRESSED_MAGIC.topk), topkBody(update)];
  if (!update.deflate) return [encodeHeader(update.spec, COMPRESSED_MAGIC.int8), int8Body(update)];
  return [encodeHeader(update.spec, DEFLATED_INT8_MAGIC), deflateRawSync(int8Body(update))];
}

/** Encodes a compressed update as transport chunks of at most `chunkBytes`. */
export function encodeCompressedChunks(update: CompressedUpdate, chunkBytes: number): Generator<Uint8Array> {
  return packChunks(encodeCompressed(update), chunkBytes);
}

function int8Body(update: QuantizedUpdate): Uint8Array {
  const total = totalParameters(update.spec);
  if (update.levels.length !== total || update.scales.length !== Math.ceil(total / INT8_BLOCK)) {
    throw new CodecError(`an int8 update of ${total} values needs ${total} levels and ${Math.ceil(total / INT8_BLOCK)} scales, got ${update.levels.length} and ${update.scales.length}`);
  }
  const out = new Uint8Array(4 * update.scales.length + total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (let b = 0; b < update.scales.length; b++) {
    view.setFloat32(at, update.scales[b]!, true);
    at += 4;
    const from = b * INT8_BLOCK;
    const block = update.levels.subarray(from, Math.min(total, from + INT8_BLOCK));
    out.set(new Uint8Array(block.buffer, block.byteOffset, block.length), at);
    at += block.length;
  }
  return out;
}

function topkBody(update: SparseUpdate): Uint8Array {
  const k = update.indices.length;
  if (update.values.length !== k) throw new CodecError(`a top-k update needs as many values as indices, got ${update.values.length} and ${k}`);
  const out = new Uint8Array(4 + 8 * k);
  const view = new DataView(out.buffer);
  view.setUint32(0, k, true);
  for (let i = 0; i < k; i++) {
    view.setUint32(4 + 8 * i, update.indices[i]!, true);
    view.setFloat32(8 + 8 * i, update.values[i]!, true);
  }
  return out;
}

/** The dense update a compressed one stands for, exactly as the coordinator decodes it. */
export function decompress(update: CompressedUpdate): Float32Array {
  const total = totalParameters(update.spec);
  const out = new Float32Array(total);
  if (update.method === 'topk') {
    for (let i = 0; i < update.indices.length; i++) out[update.indices[i]!] = update.values[i]!;
    return out;
  }
  for (let i = 0; i < total; i++) out[i] = int8Value(update.levels[i]!, update.scales[Math.floor(i / INT8_BLOCK)]!);
  return out;
}
