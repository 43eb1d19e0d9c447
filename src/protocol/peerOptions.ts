import type { RefusalCode } from './refusalCode.js';

/** What the sender states once all bytes are sent: the payload's SHA-256 and, if it signs, its signature. */
export interface StreamTrailer {
  readonly sha256: string;
  readonly signature?: string;
}

/** Where the bytes of an incoming stream go. `end` runs after the hash has been checked. */
export interface StreamSink {
  write(chunk: Uint8Array): void | Promise<void>;
  end(trailer: StreamTrailer): void | Promise<void>;
  /** The stream failed; `cause` is 'stalled' when its bytes stopped for longer than streamIdleTimeoutMs. */
  abort(reason: string, cause?: 'stalled'): void;
}

/** Chunking, flow control and timeouts of weight transfers over socket.io. */
export interface PeerOptions {
  /** Payload bytes per chunk; the socket's maxHttpBufferSize must exceed it. */
  readonly chunkBytes: number;
  /** Largest stream accepted from the other side. */
  readonly maxTransferBytes: number;
  /**
   * A stream of at most this many bytes (and at most one chunk) travels as one message: header, bytes and
   * trailer together, one acknowledgement instead of three round trips. Its bytes wait in the receiver's memory
   * with the header while the receiver applies back-pressure (an aggregation slot), so this stays small; a
   * larger stream sends its header first and its bytes only once accepted. Also the largest such message this
   * side accepts. 0 sends every stream in steps.
   */
  readonly wholeStreamBytes: number;
  /** Chunks sent ahead of their acknowledgements: the flow-control window. */
  readonly window: number;
  /** How long to wait for any single acknowledgement. */
  readonly ackTimeoutMs: number;
  /**
   * How long to wait for a stream to be accepted. Longer than ackTimeoutMs: a receiver applies back-pressure
   * here (the coordinator waits for an aggregation slot), and its own deadline bounds the wait on its side.
   */
  readonly beginTimeoutMs: number;
  /** Streams from the other side that may be open at once. */
  readonly maxOpenStreams: number;
  /**
   * An accepted inbound stream whose bytes stop for longer than this (no chunk, no end, while this side is not
   * itself busy writing what arrived) is aborted as stalled, so a sender that goes quiet with its socket open
   * cannot hold what the stream holds (an aggregation slot) until a deadline. 0 turns the check off.
   */
  readonly streamIdleTimeoutMs: number;
  /**
   * An accepted inbound stream that brings fewer bytes than this a second over a window of streamIdleTimeoutMs
   * (not counting the time this side was busy writing what arrived) is aborted as stalled: a sender trickling a
   * byte now and then is as stalled as a silent one. 0 turns the check off.
   */
  readonly minStreamBytesPerSecond: number;
}

/** Payload bytes per chunk by default: 1 MiB. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

/** Streams sent as one message by default: up to 256 KiB (a model of about 64k float32 parameters). */
export const DEFAULT_WHOLE_STREAM_BYTES = 256 * 1024;

export const defaultPeerOptions: PeerOptions = {
  chunkBytes: DEFAULT_CHUNK_BYTES,
  maxTransferBytes: 2 ** 31,
  wholeStreamBytes: DEFAULT_WHOLE_STREAM_BYTES,
  window: 4,
  ackTimeoutMs: 60_000,
  beginTimeoutMs: 30 * 60_000,
  maxOpenStreams: 4,
  streamIdleTimeoutMs: 30_000,
  minStreamBytesPerSecond: 4_096,
};

/** Room for socket.io's framing on top of one chunk. */
export function maxHttpBufferSizeFor(chunkBytes: number): number {
  return chunkBytes + 64 * 1024;
}

export class TransferError extends Error {
  override readonly name = 'TransferError';

  /** What the other side's refusal said in code (see refusalCode.ts), when it said it. */
  constructor(
    message: string,
    readonly code?: RefusalCode,
  ) {
    super(message);
  }
}
