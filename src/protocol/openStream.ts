import { createHash } from 'node:crypto';
import type { StreamSink } from './peerOptions.js';

/** An inbound stream's state while it arrives (inboundStreams.ts): its sink, the bytes and hash so far, its timers. */
export interface OpenStream {
  readonly sink: StreamSink;
  readonly totalBytes: number;
  readonly hash: ReturnType<typeof createHash>;
  received: number;
  nextSeq: number;
  /** Writes are serialized so a slow sink applies back-pressure through delayed acks. */
  tail: Promise<void>;
  /** False until the receiver's handler accepted the stream; chunks before that are a protocol violation. */
  ready: boolean;
  /** Sent whole (one message, wholeStream.ts): it takes no chunk and no end. */
  whole?: boolean;
  failed?: string;
  /** Chunks handed to the sink and not yet written: while this side is busy, the sender is not idle. */
  writing: number;
  idle?: NodeJS.Timeout;
  rate?: NodeJS.Timeout;
  /** Milliseconds this side spent writing in the current rate window, and since when it is writing now. */
  busyMs: number;
  busySince?: number;
  /** When the last chunk arrived (performance.now()). */
  lastChunkAt: number;
}

/** An inbound stream's entry while its handler decides (it may wait for an aggregation slot). */
export function reserved(totalBytes: number): OpenStream {
  return {
    sink: { write: () => undefined, end: () => undefined, abort: () => undefined },
    totalBytes,
    hash: createHash('sha256'),
    received: 0,
    nextSeq: 0,
    tail: Promise.resolve(),
    ready: false,
    writing: 0,
    busyMs: 0,
    lastChunkAt: performance.now(),
  };
}
