import { createHash, randomUUID } from 'node:crypto';
import { parserRefusal } from './guardedParser.js';
import { InboundStreams, type AckFn } from './inboundStreams.js';
import type { RefusalCode } from './refusalCode.js';
import { describeZodError, messageSchema, type Message, type StreamMeta } from './messages.js';
import { defaultPeerOptions, TransferError, type PeerOptions, type StreamSink } from './peerOptions.js';
import { isAck, type Ack, type SocketLike } from './socketLike.js';
import { gatherWhole, NO_BYTES, sha256Hex, WHOLE_STREAM_EVENT, wholeStreamLimit } from './wholeStream.js';

export { DEFAULT_CHUNK_BYTES, DEFAULT_WHOLE_STREAM_BYTES, TransferError, defaultPeerOptions, maxHttpBufferSizeFor, type PeerOptions, type StreamSink, type StreamTrailer } from './peerOptions.js';

/** How a stream's trailer is made: its signature, and its hash when known ahead (computed once for many receivers). */
interface SendOptions {
  readonly sign?: (sha256: string) => string;
  readonly sha256?: string | (() => string);
}

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
    const inbound = new InboundStreams({
      options: () => this.options,
      handler: (meta, totalBytes) => this.streamHandler(meta, totalBytes),
      refuse: (ack, problem, about, code) => this.refuse(ack, problem, about, code),
      received: (bytes) => {
        this.bytesIn += bytes;
        this.trafficHandler('in', bytes);
      },
    });
    socket.on('stream:begin', (header, ack) => void inbound.begin(header, ackOf(ack)));
    // An empty stream (a task naming a payload the receiver holds) carries no bytes argument: one frame, not two.
    socket.on(WHOLE_STREAM_EVENT, (header, bytes, ack) => void (typeof bytes === 'function' && ack === undefined ? inbound.whole(header, NO_BYTES, ackOf(bytes)) : inbound.whole(header, bytes, ackOf(ack))));
    socket.on('stream:chunk', (id, seq, bytes, ack) => inbound.chunk(id, seq, bytes, ackOf(ack)));
    socket.on('stream:end', (trailer, ack) => void inbound.end(trailer, ackOf(ack)));
    socket.on('stream:abort', (info) => inbound.abort(info));
    socket.on('disconnect', () => inbound.abortAll('peer disconnected'));
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
      const header = { id, meta, totalBytes, sha256, ...(signature ? { signature } : {}) };
      const ack = await (bytes.length > 0 ? this.emitWithAck(WHOLE_STREAM_EVENT, this.options.beginTimeoutMs, header, bytes) : this.emitWithAck(WHOLE_STREAM_EVENT, this.options.beginTimeoutMs, header));
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

}
