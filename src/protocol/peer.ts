import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { parserRefusal } from './guardedParser.js';
import { refusalCodeOf, type RefusalCode } from './refusalCode.js';
import { describeZodError, messageSchema, streamMetaSchema, type Message, type StreamMeta } from './messages.js';
import { isAck, type Ack, type SocketLike } from './socketLike.js';

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

export const defaultPeerOptions: PeerOptions = {
  chunkBytes: DEFAULT_CHUNK_BYTES,
  maxTransferBytes: 2 ** 31,
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

interface OpenStream {
  readonly sink: StreamSink;
  readonly totalBytes: number;
  readonly hash: ReturnType<typeof createHash>;
  received: number;
  nextSeq: number;
  /** Writes are serialized so a slow sink applies back-pressure through delayed acks. */
  tail: Promise<void>;
  /** False until the receiver's handler accepted the stream; chunks before that are a protocol violation. */
  ready: boolean;
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

type AckFn = (ack: Ack) => void;
const noAck: AckFn = () => undefined;

function ackOf(arg: unknown): AckFn {
  return typeof arg === 'function' ? (arg as AckFn) : noAck;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The task a refused message or stream header names, if it names one in the protocol's form. */
function taskIdOf(about: unknown): string | undefined {
  if (typeof about !== 'object' || about === null || Array.isArray(about)) return undefined;
  const id = (about as { taskId?: unknown }).taskId;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined;
}

/**
 * Typed messages and chunked, flow-controlled, hash-checked streams over one socket.io socket.
 * Every inbound message and stream header is validated before any handler sees it.
 */
export class Peer {
  private options: PeerOptions;
  private readonly open = new Map<string, OpenStream>();
  private messageHandler: (message: Message) => void | Promise<void> = () => undefined;
  private streamHandler: (meta: StreamMeta, totalBytes: number) => StreamSink | Promise<StreamSink> = () => {
    throw new TransferError('this peer accepts no streams');
  };
  private protocolErrorHandler: (problem: string) => void = () => undefined;
  private refusedTaskHandler: (taskId: string, problem: string) => void = () => undefined;
  /** Payload bytes of streamed chunks, each way, for metrics. */
  bytesIn = 0;
  bytesOut = 0;
  private trafficHandler: (direction: 'in' | 'out', bytes: number) => void = () => undefined;

  constructor(private readonly socket: SocketLike, options: Partial<PeerOptions> = {}) {
    this.options = { ...defaultPeerOptions, ...options };
    socket.on('msg', (payload, ack) => void this.receiveMessage(payload, ackOf(ack)));
    socket.on('stream:begin', (header, ack) => void this.receiveBegin(header, ackOf(ack)));
    socket.on('stream:chunk', (id, seq, bytes, ack) => this.receiveChunk(id, seq, bytes, ackOf(ack)));
    socket.on('stream:end', (trailer, ack) => void this.receiveEnd(trailer, ackOf(ack)));
    socket.on('stream:abort', (info) => this.receiveAbort(info));
    socket.on('disconnect', () => this.abortAll('peer disconnected'));
  }

  /**
   * Bounds the streams the other side may send from now on (a node learns its model, and so what the largest
   * legitimate download is, after it connects).
   */
  limitTransfers(maxTransferBytes: number): void {
    if (!Number.isSafeInteger(maxTransferBytes) || maxTransferBytes < 0) throw new TransferError(`maxTransferBytes must be a non-negative integer, got ${maxTransferBytes}`);
    this.options = { ...this.options, maxTransferBytes };
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  disconnect(): void {
    this.socket.disconnect(true);
  }

  onMessage(handler: (message: Message) => void | Promise<void>): void {
    this.messageHandler = handler;
  }

  onStream(handler: (meta: StreamMeta, totalBytes: number) => StreamSink | Promise<StreamSink>): void {
    this.streamHandler = handler;
  }

  /** Called for every chunk sent or received (payload bytes). */
  onTraffic(handler: (direction: 'in' | 'out', bytes: number) => void): void {
    this.trafficHandler = handler;
  }

  /** Called with a description of every malformed or refused inbound message or stream. */
  onProtocolError(handler: (problem: string) => void): void {
    this.protocolErrorHandler = handler;
  }

  /**
   * Called when a refused inbound message or stream header (malformed, too large, or refused by its handler)
   * names a task: the task can fail at once instead of waiting out its deadline for an answer that will not come.
   */
  onRefusedTask(handler: (taskId: string, problem: string) => void): void {
    this.refusedTaskHandler = handler;
  }

  /** Sends a control message and waits until the other side has validated and handled it. */
  async send(message: Message): Promise<void> {
    const ack = await this.emitWithAck('msg', this.options.ackTimeoutMs, message);
    if (!ack.ok) throw new TransferError(`peer refused ${message.type}: ${ack.error}`);
  }

  /** Sends a message without waiting (used just before disconnecting a peer). */
  notify(message: Message): void {
    this.socket.emit('msg', message);
  }

  /**
   * Streams `chunks` (totalling `totalBytes`) with `meta`; resolves once the receiver checked the hash.
   * `sha256` may be given when the same bytes go to many receivers, so they are hashed once, not per peer; as a
   * function it is read once every chunk is sent (a payload that hashes as its chunks leave: SharedPayload).
   */
  async sendStream(meta: StreamMeta, totalBytes: number, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options: { sign?: (sha256: string) => string; sha256?: string | (() => string) } = {}): Promise<void> {
    const id = randomUUID();
    const begin = await this.emitWithAck('stream:begin', this.options.beginTimeoutMs, { id, meta, totalBytes });
    if (!begin.ok) throw new TransferError(`peer refused the ${meta.kind} stream: ${begin.error}`, begin.code);
    const hash = createHash('sha256');
    const inflight = new Set<Promise<void>>();
    // The first refused chunk, kept so a later successful ack cannot hide it.
    let failure: unknown;
    const check = () => {
      if (failure !== undefined) throw failure;
    };
    let sent = 0;
    let seq = 0;
    try {
      for await (const chunk of chunks) {
        check();
        if (chunk.length > this.options.chunkBytes) throw new TransferError(`chunk of ${chunk.length} bytes exceeds ${this.options.chunkBytes}`);
        if (options.sha256 === undefined) hash.update(chunk);
        sent += chunk.length;
        this.bytesOut += chunk.length;
        this.trafficHandler('out', chunk.length);
        const pending = this.emitWithAck('stream:chunk', this.options.ackTimeoutMs, id, seq++, chunk).then((ack) => {
          if (!ack.ok) throw new TransferError(`peer refused a chunk of the ${meta.kind} stream: ${ack.error}`);
        });
        inflight.add(pending);
        pending.then(
          () => inflight.delete(pending),
          (e: unknown) => {
            inflight.delete(pending);
            failure ??= e;
          },
        );
        if (inflight.size >= this.options.window) await Promise.race(inflight).catch(() => undefined);
      }
      await Promise.allSettled(inflight);
      check();
      if (sent !== totalBytes) throw new TransferError(`stream announced ${totalBytes} bytes but produced ${sent}`);
      const given = options.sha256;
      const sha256 = given === undefined ? hash.digest('hex') : typeof given === 'function' ? given() : given;
      const signature = options.sign?.(sha256);
      const end = await this.emitWithAck('stream:end', this.options.ackTimeoutMs, { id, sha256, ...(signature ? { signature } : {}) });
      if (!end.ok) throw new TransferError(`peer rejected the ${meta.kind} stream: ${end.error}`);
    } catch (e) {
      this.socket.emit('stream:abort', { id, reason: errorText(e) });
      throw e;
    }
  }

  private async emitWithAck(event: string, timeoutMs: number, ...args: unknown[]): Promise<Ack> {
    if (!this.socket.connected) throw new TransferError(`not connected (while sending ${event})`);
    let reply: unknown;
    try {
      reply = await this.socket.timeout(timeoutMs).emitWithAck(event, ...args);
    } catch (e) {
      throw new TransferError(`no acknowledgement for ${event} within ${timeoutMs} ms (${errorText(e)})`);
    }
    if (!isAck(reply)) throw new TransferError(`malformed acknowledgement for ${event}`);
    return reply;
  }

  /** Refuses an inbound message or stream step; `about` is the message or header, whose task is then told. */
  private refuse(ack: AckFn, problem: string, about?: unknown, code?: RefusalCode): void {
    this.protocolErrorHandler(problem);
    const taskId = taskIdOf(about);
    if (taskId !== undefined) this.refusedTaskHandler(taskId, problem);
    ack({ ok: false, error: problem, ...(code ? { code } : {}) });
  }

  private async receiveMessage(payload: unknown, ack: AckFn): Promise<void> {
    const unparsed = parserRefusal(payload);
    if (unparsed) {
      this.refuse(ack, `malformed message: ${unparsed}`);
      return;
    }
    const parsed = messageSchema.safeParse(payload);
    if (!parsed.success) {
      this.refuse(ack, `malformed message: ${describeZodError(parsed.error)}`, payload);
      return;
    }
    try {
      // Acknowledge synchronous handlers at once, before any work their side effects scheduled.
      const handled = this.messageHandler(parsed.data);
      if (handled instanceof Promise) await handled;
      ack({ ok: true });
    } catch (e) {
      this.refuse(ack, errorText(e), payload);
    }
  }

  private async receiveBegin(header: unknown, ack: AckFn): Promise<void> {
    const unparsed = parserRefusal(header);
    if (unparsed) {
      this.refuse(ack, `malformed stream header: ${unparsed}`);
      return;
    }
    const h = (typeof header === 'object' && header !== null ? header : {}) as { id?: unknown; meta?: unknown; totalBytes?: unknown };
    if (typeof h.id !== 'string' || h.id.length === 0 || h.id.length > 64 || this.open.has(h.id)) {
      this.refuse(ack, 'malformed stream header: missing, duplicate or overlong id', h.meta);
      return;
    }
    if (typeof h.totalBytes !== 'number' || !Number.isSafeInteger(h.totalBytes) || h.totalBytes < 0) {
      this.refuse(ack, 'malformed stream header: totalBytes must be a non-negative integer', h.meta);
      return;
    }
    if (h.totalBytes > this.options.maxTransferBytes) {
      this.refuse(ack, `stream of ${h.totalBytes} bytes exceeds the limit of ${this.options.maxTransferBytes} bytes`, h.meta);
      return;
    }
    if (this.open.size >= this.options.maxOpenStreams) {
      this.refuse(ack, `too many open streams (limit ${this.options.maxOpenStreams})`, h.meta);
      return;
    }
    const meta = streamMetaSchema.safeParse(h.meta);
    if (!meta.success) {
      this.refuse(ack, `malformed stream header: ${describeZodError(meta.error)}`, h.meta);
      return;
    }
    const id = h.id;
    const totalBytes = h.totalBytes;
    // Reserve the id before awaiting the handler, which may wait for an aggregation slot.
    const placeholder: OpenStream = {
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
    this.open.set(id, placeholder);
    let sink: StreamSink;
    try {
      sink = await this.streamHandler(meta.data, totalBytes);
    } catch (e) {
      this.open.delete(id);
      this.refuse(ack, errorText(e), meta.data, refusalCodeOf(e));
      return;
    }
    if (this.open.get(id) !== placeholder) {
      sink.abort(placeholder.failed ?? 'stream aborted before it started');
      return;
    }
    const stream: OpenStream = { ...placeholder, sink, ready: true };
    this.open.set(id, stream);
    this.watchIdle(id, stream);
    ack({ ok: true });
  }

  /** Aborts `stream` as stalled once its sender has been quiet for streamIdleTimeoutMs (this side idle too). */
  private watchIdle(id: string, stream: OpenStream): void {
    const ms = this.options.streamIdleTimeoutMs;
    if (!(ms > 0)) return;
    stream.idle = setTimeout(() => {
      if (this.open.get(id) !== stream) return;
      // Our own sink is slow (an aggregation step): the sender waits for our acknowledgements, not the reverse.
      if (stream.writing > 0) return void stream.idle?.refresh();
      this.fail(id, stream, `no bytes for ${ms} ms: the stream stalled after ${stream.received} of ${stream.totalBytes} bytes`, 'stalled');
    }, ms);
    stream.idle.unref();
    this.watchRate(id, stream, ms);
  }

  /** Aborts `stream` as stalled when a window of `ms` brings fewer than minStreamBytesPerSecond (this side's busy time excluded). */
  private watchRate(id: string, stream: OpenStream, ms: number): void {
    const min = this.options.minStreamBytesPerSecond;
    if (!(min > 0)) return;
    let mark = stream.received;
    stream.rate = setInterval(() => {
      if (this.open.get(id) !== stream) return void clearInterval(stream.rate);
      const now = performance.now();
      const busy = stream.busyMs + (stream.busySince === undefined ? 0 : now - stream.busySince);
      stream.busyMs = 0;
      if (stream.busySince !== undefined) stream.busySince = now;
      const got = stream.received - mark;
      mark = stream.received;
      const open = ms - busy;
      // Mostly waiting on ourselves: the sender's rate says nothing this window.
      if (open < ms / 2) return;
      // A sender gone quiet is the idle timer's to report, with its plainer message; this catches trickles.
      if (now - stream.lastChunkAt >= ms / 2) return;
      if (got < (min * open) / 1000) {
        this.fail(id, stream, `${got} bytes in ${Math.round(open)} ms, below the minimum rate of ${min} bytes/s: the stream stalled after ${stream.received} of ${stream.totalBytes} bytes`, 'stalled');
      }
    }, ms);
    stream.rate.unref();
  }

  private receiveChunk(id: unknown, seq: unknown, bytes: unknown, ack: AckFn): void {
    const stream = typeof id === 'string' ? this.open.get(id) : undefined;
    if (!stream) {
      this.refuse(ack, 'chunk for an unknown stream');
      return;
    }
    const problem = !stream.ready
      ? 'chunk before the stream was accepted'
      : !(bytes instanceof Uint8Array)
        ? 'chunk is not binary'
        : seq !== stream.nextSeq
          ? `chunk ${String(seq)} arrived out of order (expected ${stream.nextSeq})`
          : bytes.length > this.options.chunkBytes
            ? `chunk of ${bytes.length} bytes exceeds ${this.options.chunkBytes}`
            : stream.received + bytes.length > stream.totalBytes
              ? `stream carries more than its announced ${stream.totalBytes} bytes`
              : undefined;
    if (problem || !(bytes instanceof Uint8Array)) {
      this.fail(id as string, stream, problem ?? 'chunk is not binary');
      this.refuse(ack, problem ?? 'chunk is not binary');
      return;
    }
    stream.nextSeq++;
    stream.received += bytes.length;
    this.bytesIn += bytes.length;
    this.trafficHandler('in', bytes.length);
    stream.hash.update(bytes);
    stream.idle?.refresh();
    stream.lastChunkAt = performance.now();
    if (stream.writing++ === 0) stream.busySince = performance.now();
    stream.tail = stream.tail.then(async () => {
      if (stream.failed) {
        ack({ ok: false, error: stream.failed });
        return;
      }
      try {
        await stream.sink.write(bytes);
        ack({ ok: true });
      } catch (e) {
        this.fail(id as string, stream, errorText(e));
        this.refuse(ack, errorText(e));
      } finally {
        if (--stream.writing === 0 && stream.busySince !== undefined) {
          stream.busyMs += performance.now() - stream.busySince;
          stream.busySince = undefined;
        }
        // The sender's next chunk waits on this acknowledgement: its quiet time starts now.
        stream.idle?.refresh();
      }
    });
  }

  private async receiveEnd(trailer: unknown, ack: AckFn): Promise<void> {
    const t = (typeof trailer === 'object' && trailer !== null ? trailer : {}) as { id?: unknown; sha256?: unknown; signature?: unknown };
    const stream = typeof t.id === 'string' ? this.open.get(t.id) : undefined;
    if (!stream || typeof t.id !== 'string') {
      this.refuse(ack, 'end of an unknown stream');
      return;
    }
    const id = t.id;
    await stream.tail;
    if (stream.failed) {
      this.refuse(ack, stream.failed);
      return;
    }
    this.open.delete(id);
    clearTimeout(stream.idle);
    clearInterval(stream.rate);
    const actual = stream.hash.digest();
    const claimed = typeof t.sha256 === 'string' && /^[0-9a-f]{64}$/.test(t.sha256) ? Buffer.from(t.sha256, 'hex') : undefined;
    if (stream.received !== stream.totalBytes) {
      stream.sink.abort(`stream ended after ${stream.received} of ${stream.totalBytes} bytes`);
      this.refuse(ack, `stream ended after ${stream.received} of ${stream.totalBytes} bytes`);
      return;
    }
    if (!claimed || !timingSafeEqual(claimed, actual)) {
      stream.sink.abort('SHA-256 of the received bytes does not match the sender\'s');
      this.refuse(ack, 'SHA-256 of the received bytes does not match the sender\'s');
      return;
    }
    try {
      const signature = typeof t.signature === 'string' && t.signature.length <= 256 ? t.signature : undefined;
      await stream.sink.end({ sha256: actual.toString('hex'), ...(signature ? { signature } : {}) });
      ack({ ok: true });
    } catch (e) {
      this.refuse(ack, errorText(e));
    }
  }

  private receiveAbort(info: unknown): void {
    const i = (typeof info === 'object' && info !== null ? info : {}) as { id?: unknown; reason?: unknown };
    const stream = typeof i.id === 'string' ? this.open.get(i.id) : undefined;
    if (stream && typeof i.id === 'string') this.fail(i.id, stream, `sender aborted: ${String(i.reason ?? 'no reason')}`);
  }

  private fail(id: string, stream: OpenStream, reason: string, cause?: 'stalled'): void {
    if (stream.failed) return;
    stream.failed = reason;
    clearTimeout(stream.idle);
    clearInterval(stream.rate);
    this.open.delete(id);
    stream.sink.abort(reason, cause);
  }

  private abortAll(reason: string): void {
    for (const [id, stream] of [...this.open]) this.fail(id, stream, reason);
  }
}
