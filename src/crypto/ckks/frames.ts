import { packChunks, packChunksAsync } from '../../protocol/chunking.js';
import { CkksError } from './ckksError.js';

/**
 * Byte layout of an encrypted update or sum, streamed in any chunking (integers little-endian):
 *   "CKS1" | then per ciphertext, in index order: u32 byte length | SEAL-serialized ciphertext.
 * The count is not written: both ends derive it from the model size (CkksContext.ciphertextCount).
 */
const MAGIC = [0x43, 0x4b, 0x53, 0x31]; // "CKS1"
const MAGIC_BYTES = 4;
const LENGTH_BYTES = 4;

/** Bytes of the framed stream for these ciphertexts. */
export function framedByteLength(ciphertexts: readonly Uint8Array[]): number {
  let n = MAGIC_BYTES;
  for (const c of ciphertexts) n += LENGTH_BYTES + c.length;
  return n;
}

/** Bytes of the framed stream for `count` ciphertexts of `ciphertextBytes` each (known before they exist). */
export function framedStreamLength(count: number, ciphertextBytes: number): number {
  return MAGIC_BYTES + count * (LENGTH_BYTES + ciphertextBytes);
}

/** The framed stream as chunks of at most `chunkBytes` (ciphertexts larger than a chunk travel as views), without one big copy. */
export function* ciphertextFrameChunks(ciphertexts: Iterable<Uint8Array>, chunkBytes: number): Generator<Uint8Array> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 16) throw new CkksError(`chunkBytes must be an integer >= 16, got ${chunkBytes}`);
  yield* packChunks(frameSegments(ciphertexts), chunkBytes);
}

/** ciphertextFrameChunks over ciphertexts that arrive asynchronously (made by worker threads). */
export async function* ciphertextFrameChunksAsync(ciphertexts: AsyncIterable<Uint8Array>, chunkBytes: number): AsyncGenerator<Uint8Array> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 16) throw new CkksError(`chunkBytes must be an integer >= 16, got ${chunkBytes}`);
  yield* packChunksAsync(frameSegmentsAsync(ciphertexts), chunkBytes);
}

function* frameSegments(ciphertexts: Iterable<Uint8Array>): Generator<Uint8Array> {
  yield Uint8Array.from(MAGIC);
  for (const c of ciphertexts) yield* frame(c);
}

async function* frameSegmentsAsync(ciphertexts: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield Uint8Array.from(MAGIC);
  for await (const c of ciphertexts) yield* frame(c);
}

function frame(c: Uint8Array): Uint8Array[] {
  if (c.length === 0) throw new CkksError('cannot frame an empty ciphertext');
  const length = new Uint8Array(LENGTH_BYTES);
  new DataView(length.buffer).setUint32(0, c.length, true);
  return [length, c];
}

/** The framed stream in one buffer. */
export function encodeCiphertextFrames(ciphertexts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(framedByteLength(ciphertexts));
  let at = 0;
  for (const chunk of ciphertextFrameChunks(ciphertexts, Math.max(16, Math.min(out.length, 1 << 24)))) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Incremental parser: takes bytes split at arbitrary boundaries (the transport's ~1 MiB chunks) and
 * returns each ciphertext as soon as its last byte arrives, copied out (the caller may reuse its chunks).
 * Memory: one ciphertext in progress.
 */
export class CiphertextFrameParser {
  private magicFill = 0;
  private readonly lengthBytes = new Uint8Array(LENGTH_BYTES);
  private lengthFill = 0;
  private frame: Uint8Array | undefined;
  private frameFill = 0;
  private frames = 0;

  /** `maxFrameBytes` refuses a corrupt or hostile length before allocating it. */
  constructor(private readonly maxFrameBytes: number) {}

  /** Ciphertexts completed so far. */
  get count(): number {
    return this.frames;
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const done: Uint8Array[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      if (this.magicFill < MAGIC_BYTES) {
        if (bytes[pos] !== MAGIC[this.magicFill]) throw new CkksError('not an encrypted CKKS stream (bad magic; expected "CKS1")');
        this.magicFill++;
        pos++;
      } else if (this.frame === undefined) {
        const n = Math.min(LENGTH_BYTES - this.lengthFill, bytes.length - pos);
        this.lengthBytes.set(bytes.subarray(pos, pos + n), this.lengthFill);
        this.lengthFill += n;
        pos += n;
        if (this.lengthFill === LENGTH_BYTES) this.startFrame();
      } else {
        const n = Math.min(this.frame.length - this.frameFill, bytes.length - pos);
        this.frame.set(bytes.subarray(pos, pos + n), this.frameFill);
        this.frameFill += n;
        pos += n;
        if (this.frameFill === this.frame.length) {
          done.push(this.frame);
          this.frames++;
          this.frame = undefined;
          this.lengthFill = 0;
        }
      }
    }
    return done;
  }

  /** Throws unless the bytes so far end exactly at a ciphertext boundary. */
  end(): void {
    if (this.magicFill < MAGIC_BYTES) throw new CkksError('encrypted stream ended before its header');
    if (this.frame !== undefined || this.lengthFill > 0) throw new CkksError(`encrypted stream ended inside ciphertext ${this.frames}`);
  }

  private startFrame(): void {
    const length = new DataView(this.lengthBytes.buffer).getUint32(0, true);
    if (length === 0 || length > this.maxFrameBytes) {
      throw new CkksError(`ciphertext ${this.frames} claims ${length} bytes; expected 1 to ${this.maxFrameBytes}`);
    }
    this.frame = new Uint8Array(length);
    this.frameFill = 0;
  }
}

/** The ciphertexts of a framed stream held whole (a stored checkpoint); throws on a damaged stream. */
export function decodeCiphertextFrames(bytes: Uint8Array): Uint8Array[] {
  const parser = new CiphertextFrameParser(bytes.length);
  const out = parser.push(bytes);
  parser.end();
  return out;
}
