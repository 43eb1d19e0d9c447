import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { parserRefusal } from './guardedParser.js';
import { refusalCodeOf, type RefusalCode } from './refusalCode.js';
import { describeZodError, messageSchema, type Message, type StreamMeta } from './messages.js';
import { defaultPeerOptions, TransferError, type PeerOptions, type StreamSink, type StreamTrailer } from './peerOptions.js';
import { isAck, type Ack, type SocketLike } from './socketLike.js';
import { readStreamHeader } from './streamHeader.js';
import { checkWhole, gatherWhole, sha256Hex, WHOLE_STREAM_EVENT, wholeStreamLimit } from './wholeStream.js';

export { DEFAULT_CHUNK_BYTES, DEFAULT_WHOLE_STREAM_BYTES, TransferError, defaultPeerOptions, maxHttpBufferSizeFor, type PeerOptions, type StreamSink, type StreamTrailer } from './peerOptions.js';

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
function reserved(totalBytes: number): OpenStream {
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

/** How a stream's trailer is made: its signature, and its hash when known ahead (computed once for many receivers). */
interface SendOptions {
  readonly sign?: (sha256: string) => string;
  readonly sha256?: string | (() => string);
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
    socket.on(WHOLE_STREAM_EVENT, (header, bytes, ack) => void this.receiveWhole(header, bytes, ackOf(ack)));
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
  async sendStream(meta: StreamMeta, totalBytes: number, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options: SendOptions = {}): Promise<void> {
    if (totalBytes <= wholeStreamLimit(this.options)) return this.sendWhole(meta, totalBytes, chunks, options);
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

  /** A stream that fits one chunk: header, bytes and trailer in one message, one acknowledgement (wholeStream.ts). */
  private async sendWhole(meta: StreamMeta, totalBytes: number, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options: SendOptions): Promise<void> {
    const id = randomUUID();
    try {
      const bytes = await gatherWhole(chunks, totalBytes);
      const given = options.sha256;
      const sha256 = given === undefined ? sha256Hex(bytes) : typeof given === 'function' ? given() : given;
      const signature = options.sign?.(sha256);
      if (bytes.length > 0) {
        this.bytesOut += bytes.length;
        this.trafficHandler('out', bytes.length);
      }
      const ack = await this.emitWithAck(WHOLE_STREAM_EVENT, this.options.beginTimeoutMs, { id, meta, totalBytes, sha256, ...(signature ? { signature } : {}) }, bytes);
      if (!ack.ok) throw new TransferError(`peer refused the ${meta.kind} stream: ${ack.error}`, ack.code);
    } catch (e) {
      // The receiver may still hold it (an acknowledgement that timed out): let it go.
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
    const read = readStreamHeader(header, this.headerLimits());
    if (!read.ok) {
      this.refuse(ack, read.problem, read.about);
      return;
    }
    const { id, meta, totalBytes } = read;
    // Reserve the id before awaiting the handler, which may wait for an aggregation slot.
    const placeholder = reserved(totalBytes);
    this.open.set(id, placeholder);
    let sink: StreamSink;
    try {
      sink = await this.streamHandler(meta, totalBytes);
    } catch (e) {
      this.open.delete(id);
      this.refuse(ack, errorText(e), meta, refusalCodeOf(e));
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

  private headerLimits() {
    return { maxTransferBytes: this.options.maxTransferBytes, maxOpenStreams: this.options.maxOpenStreams, open: this.open };
  }

  /**
   * A stream sent as one message: the header's checks, then the bytes' (size, hash), and only then the handler;
   * the id is reserved (and counts as open) while the handler waits, so a duplicate or one stream too many is
   * refused as on the stepped path.
   */
  private async receiveWhole(header: unknown, bytes: unknown, ack: AckFn): Promise<void> {
    const read = readStreamHeader(header, this.headerLimits());
    if (!read.ok) {
      this.refuse(ack, read.problem, read.about);
      return;
    }
    const { id, meta, totalBytes } = read;
    const stated = header as { sha256?: unknown; signature?: unknown };
    const checked = checkWhole(bytes, { totalBytes, sha256: stated.sha256, signature: stated.signature }, wholeStreamLimit(this.options));
    if (!checked.ok) {
      this.refuse(ack, checked.problem, meta);
      return;
    }
    const placeholder: OpenStream = { ...reserved(totalBytes), whole: true };
    this.open.set(id, placeholder);
    let sink: StreamSink;
    try {
      sink = await this.streamHandler(meta, totalBytes);
    } catch (e) {
      this.open.delete(id);
      this.refuse(ack, errorText(e), meta, refusalCodeOf(e));
      return;
    }
    if (this.open.get(id) !== placeholder) {
      const reason = placeholder.failed ?? 'stream aborted before it started';
      sink.abort(reason);
      ack({ ok: false, error: reason });
      return;
    }
    // Every byte is here: nothing more can arrive for it, so it no longer counts as open.
    this.open.delete(id);
    try {
      if (totalBytes > 0) {
        this.bytesIn += totalBytes;
        this.trafficHandler('in', totalBytes);
        await sink.write(checked.bytes);
      }
    } catch (e) {
      sink.abort(errorText(e));
      this.refuse(ack, errorText(e));
      return;
    }
    try {
      await sink.end(checked.trailer);
      ack({ ok: true });
    } catch (e) {
      this.refuse(ack, errorText(e));
    }
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
    if (stream.whole) {
      this.fail(id as string, stream, 'chunk for a stream sent whole');
      this.refuse(ack, 'chunk for a stream sent whole');
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
    if (stream.whole) {
      this.fail(t.id, stream, 'end of a stream sent whole');
      this.refuse(ack, 'end of a stream sent whole');
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
