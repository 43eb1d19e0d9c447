import type { PayloadLayout } from './messages.js';
import { createHash } from 'node:crypto';

/**
 * One payload streamed to many receivers (the global model to a round's cohort), hashed once for all of them and
 * as it goes: each chunk is hashed by whichever stream reaches it first, just before that stream sends it, so the
 * first bytes leave at once instead of after a pass over the whole payload (about 0.3 s for 400 MB), and the
 * SHA-256 is ready when the first stream's trailer needs it. The chunks must not change until every stream ends.
 */
export class SharedPayload {
  private readonly hash = createHash('sha256');
  /** Chunks hashed so far, from the first: always a prefix, so the digest is the one of the whole sequence. */
  private hashedChunks = 0;
  private digest: string | undefined;

  constructor(
    readonly chunks: readonly Uint8Array[],
    readonly totalBytes: number,
    /** The layout of a fit payload that evaluate and final tasks carry too (EncodedWeights.layout). */
    readonly layout?: PayloadLayout,
  ) {}

  /** SHA-256 (hex) of every chunk in order; hashes whatever no stream has hashed yet. */
  get sha256(): string {
    if (this.digest === undefined) {
      this.hashThrough(this.chunks.length);
      this.digest = this.hash.digest('hex');
    }
    return this.digest;
  }

  /** How many chunks have been hashed so far (all of them once the SHA-256 has been read). */
  get chunksHashed(): number {
    return this.hashedChunks;
  }

  /** The chunks for one receiver, each hashed (once for all receivers) before it is handed out. */
  *stream(): Generator<Uint8Array, void, undefined> {
    for (let i = 0; i < this.chunks.length; i++) {
      this.hashThrough(i + 1);
      yield this.chunks[i]!;
    }
  }

  private hashThrough(count: number): void {
    while (this.hashedChunks < count) this.hash.update(this.chunks[this.hashedChunks++]!);
  }
}
