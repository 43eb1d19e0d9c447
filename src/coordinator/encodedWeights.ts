import type { ModeHeader, PayloadLayout } from '../protocol/messages.js';

/** The global state of a round, encoded once and streamed to every selected client. */
export interface EncodedWeights {
  readonly chunks: readonly Uint8Array[];
  readonly totalBytes: number;
  /** SHA-256 (hex) of all chunks, computed once for every receiver (on first read, if the payload hashes as it goes). */
  readonly sha256: string;
  /** What the secure-aggregation mode adds to the task's header so the client can read the chunks. */
  readonly header?: ModeHeader;
  /** Set when the payload is a strategy's fit payload in a layout clients know (SCAFFOLD's [x; c]), sent to evaluate and final tasks too. */
  readonly layout?: PayloadLayout;
  /** The chunks for one receiver, hashed for every receiver as the first one reads them (SharedPayload); else `chunks`. */
  stream?(): Iterable<Uint8Array, void, undefined>;
}

/** What to stream to one receiver, and the SHA-256 to state once it is all sent (read then, not before). */
export function streamOf(weights: EncodedWeights): { chunks: Iterable<Uint8Array>; sha256: () => string } {
  return { chunks: weights.stream?.() ?? weights.chunks, sha256: () => weights.sha256 };
}
