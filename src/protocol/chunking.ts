/**
 * Cuts a sequence of byte segments into transport chunks of at most `chunkBytes`. Runs of a segment that
 * fill whole chunks are yielded as views (no copy); small pieces are packed into copied chunks. The
 * segments must not change until the chunks are sent.
 */
export function* packChunks(segments: Iterable<Uint8Array>, chunkBytes: number): Generator<Uint8Array> {
  const packer = new ChunkPacker(chunkBytes);
  for (const seg of segments) yield* packer.push(seg);
  const last = packer.flush();
  if (last) yield last;
}

/** packChunks over segments that arrive asynchronously (ciphertexts made by worker threads). */
export async function* packChunksAsync(segments: AsyncIterable<Uint8Array>, chunkBytes: number): AsyncGenerator<Uint8Array> {
  const packer = new ChunkPacker(chunkBytes);
  for await (const seg of segments) yield* packer.push(seg);
  const last = packer.flush();
  if (last) yield last;
}

class ChunkPacker {
  private chunk: Uint8Array;
  private filled = 0;

  constructor(private readonly chunkBytes: number) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 16) throw new RangeError(`chunkBytes must be an integer >= 16, got ${chunkBytes}`);
    this.chunk = new Uint8Array(chunkBytes);
  }

  *push(seg: Uint8Array): Generator<Uint8Array> {
    const { chunkBytes } = this;
    let pos = 0;
    while (pos < seg.length) {
      if (this.filled === 0 && seg.length - pos >= chunkBytes) {
        yield seg.subarray(pos, pos + chunkBytes);
        pos += chunkBytes;
        continue;
      }
      const n = Math.min(chunkBytes - this.filled, seg.length - pos);
      this.chunk.set(seg.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (this.filled === chunkBytes) {
        yield this.chunk;
        this.chunk = new Uint8Array(chunkBytes);
        this.filled = 0;
      }
    }
  }

  flush(): Uint8Array | undefined {
    return this.filled > 0 ? this.chunk.subarray(0, this.filled) : undefined;
  }
}
