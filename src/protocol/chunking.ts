/**
 * Cuts a sequence of byte segments into transport chunks of at most `chunkBytes`. Runs of a segment that
 * fill whole chunks are yielded as views (no copy); small pieces are packed into copied chunks. The
 * segments must not change until the chunks are sent.
 */
export function* packChunks(segments: Iterable<Uint8Array>, chunkBytes: number): Generator<Uint8Array> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 16) throw new RangeError(`chunkBytes must be an integer >= 16, got ${chunkBytes}`);
  let chunk = new Uint8Array(chunkBytes);
  let filled = 0;
  for (const seg of segments) {
    let pos = 0;
    while (pos < seg.length) {
      if (filled === 0 && seg.length - pos >= chunkBytes) {
        yield seg.subarray(pos, pos + chunkBytes);
        pos += chunkBytes;
        continue;
      }
      const n = Math.min(chunkBytes - filled, seg.length - pos);
      chunk.set(seg.subarray(pos, pos + n), filled);
      filled += n;
      pos += n;
      if (filled === chunkBytes) {
        yield chunk;
        chunk = new Uint8Array(chunkBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield chunk.subarray(0, filled);
}
