import { timingSafeEqual } from 'node:crypto';
import type { StreamMeta } from './messages.js';
import { reserved, type OpenStream } from './openStream.js';
import type { PeerOptions, StreamSink } from './peerOptions.js';
import { refusalCodeOf, type RefusalCode } from './refusalCode.js';
import type { Ack } from './socketLike.js';
import { watchIdle } from './stallWatch.js';
import { readStreamHeader } from './streamHeader.js';
import { checkWhole, wholeStreamLimit } from './wholeStream.js';

export type AckFn = (ack: Ack) => void;

/** What the inbound side of a Peer works with: its options, the stream handler, how it refuses, and a byte count. */
export interface InboundContext {
  options(): PeerOptions;
  handler(meta: StreamMeta, totalBytes: number): StreamSink | Promise<StreamSink>;
  /** Refuses an inbound step; `about` is the header whose task is then told. */
  refuse(ack: AckFn, problem: string, about?: unknown, code?: RefusalCode): void;
  /** Payload bytes that arrived (metrics). */
  received(bytes: number): void;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The streams the other side sends: each header checked before its handler runs, each chunk in order and within
 * the announced size, the hash compared at the end, stalled senders aborted; whole streams checked alike.
 */
export class InboundStreams {
  private readonly open = new Map<string, OpenStream>();

  constructor(private readonly context: InboundContext) {}

  async begin(header: unknown, ack: AckFn): Promise<void> {
    const read = readStreamHeader(header, this.headerLimits());
    if (!read.ok) {
      this.context.refuse(ack, read.problem, read.about);
      return;
    }
    const { id, meta, totalBytes } = read;
    const placeholder = reserved(totalBytes);
    const sink = await this.openSink(id, placeholder, meta, ack);
    if (typeof sink === 'string') return;
    const stream: OpenStream = { ...placeholder, sink, ready: true };
    this.open.set(id, stream);
    watchIdle(stream, this.context.options(), { isOpen: () => this.open.get(id) === stream, stalled: (problem) => this.fail(id, stream, problem, 'stalled') });
    ack({ ok: true });
  }

  /**
   * Reserves `id` (it counts as open) while the handler opens the stream's sink, which may wait for an aggregation
   * slot. Returns the sink, '' when the handler refused (already answered), or why the stream was aborted meanwhile
   * (the sink is then aborted too).
   */
  private async openSink(id: string, placeholder: OpenStream, meta: StreamMeta, ack: AckFn): Promise<StreamSink | string> {
    this.open.set(id, placeholder);
    let sink: StreamSink;
    try {
      sink = await this.context.handler(meta, placeholder.totalBytes);
    } catch (e) {
      this.open.delete(id);
      this.context.refuse(ack, errorText(e), meta, refusalCodeOf(e));
      return '';
    }
    if (this.open.get(id) === placeholder) return sink;
    const reason = placeholder.failed ?? 'stream aborted before it started';
    sink.abort(reason);
    return reason;
  }

  private headerLimits() {
    return { maxTransferBytes: this.context.options().maxTransferBytes, maxOpenStreams: this.context.options().maxOpenStreams, open: this.open };
  }

  /**
   * A stream sent as one message: the header's checks, then the bytes' (size, hash), and only then the handler;
   * the id is reserved (and counts as open) while the handler waits, so a duplicate or one stream too many is
   * refused as on the stepped path.
   */
  async whole(header: unknown, bytes: unknown, ack: AckFn): Promise<void> {
    const read = readStreamHeader(header, this.headerLimits());
    if (!read.ok) {
      this.context.refuse(ack, read.problem, read.about);
      return;
    }
    const { id, meta, totalBytes } = read;
    const stated = header as { sha256?: unknown; signature?: unknown };
    const checked = checkWhole(bytes, { totalBytes, sha256: stated.sha256, signature: stated.signature }, wholeStreamLimit(this.context.options()));
    if (!checked.ok) {
      this.context.refuse(ack, checked.problem, meta);
      return;
    }
    const placeholder: OpenStream = { ...reserved(totalBytes), whole: true };
    const sink = await this.openSink(id, placeholder, meta, ack);
    if (typeof sink === 'string') {
      if (sink !== '') ack({ ok: false, error: sink });
      return;
    }
    // Every byte is here: nothing more can arrive for it, so it no longer counts as open.
    this.open.delete(id);
    try {
      if (totalBytes > 0) {
        this.context.received(totalBytes);
        await sink.write(checked.bytes);
      }
    } catch (e) {
      sink.abort(errorText(e));
      this.context.refuse(ack, errorText(e));
      return;
    }
    try {
      await sink.end(checked.trailer);
      ack({ ok: true });
    } catch (e) {
      this.context.refuse(ack, errorText(e));
    }
  }

  chunk(id: unknown, seq: unknown, bytes: unknown, ack: AckFn): void {
    const stream = typeof id === 'string' ? this.open.get(id) : undefined;
    if (!stream) {
      this.context.refuse(ack, 'chunk for an unknown stream');
      return;
    }
    if (stream.whole) {
      this.fail(id as string, stream, 'chunk for a stream sent whole');
      this.context.refuse(ack, 'chunk for a stream sent whole');
      return;
    }
    const problem = !stream.ready
      ? 'chunk before the stream was accepted'
      : !(bytes instanceof Uint8Array)
        ? 'chunk is not binary'
        : seq !== stream.nextSeq
          ? `chunk ${String(seq)} arrived out of order (expected ${stream.nextSeq})`
          : bytes.length > this.context.options().chunkBytes
            ? `chunk of ${bytes.length} bytes exceeds ${this.context.options().chunkBytes}`
            : stream.received + bytes.length > stream.totalBytes
              ? `stream carries more than its announced ${stream.totalBytes} bytes`
              : undefined;
    if (problem || !(bytes instanceof Uint8Array)) {
      this.fail(id as string, stream, problem ?? 'chunk is not binary');
      this.context.refuse(ack, problem ?? 'chunk is not binary');
      return;
    }
    stream.nextSeq++;
    stream.received += bytes.length;
    this.context.received(bytes.length);
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
        this.context.refuse(ack, errorText(e));
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

  async end(trailer: unknown, ack: AckFn): Promise<void> {
    const t = (typeof trailer === 'object' && trailer !== null ? trailer : {}) as { id?: unknown; sha256?: unknown; signature?: unknown };
    const stream = typeof t.id === 'string' ? this.open.get(t.id) : undefined;
    if (!stream || typeof t.id !== 'string') {
      this.context.refuse(ack, 'end of an unknown stream');
      return;
    }
    if (stream.whole) {
      this.fail(t.id, stream, 'end of a stream sent whole');
      this.context.refuse(ack, 'end of a stream sent whole');
      return;
    }
    const id = t.id;
    await stream.tail;
    if (stream.failed) {
      this.context.refuse(ack, stream.failed);
      return;
    }
    this.open.delete(id);
    clearTimeout(stream.idle);
    clearInterval(stream.rate);
    const actual = stream.hash.digest();
    const claimed = typeof t.sha256 === 'string' && /^[0-9a-f]{64}$/.test(t.sha256) ? Buffer.from(t.sha256, 'hex') : undefined;
    if (stream.received !== stream.totalBytes) {
      stream.sink.abort(`stream ended after ${stream.received} of ${stream.totalBytes} bytes`);
      this.context.refuse(ack, `stream ended after ${stream.received} of ${stream.totalBytes} bytes`);
      return;
    }
    if (!claimed || !timingSafeEqual(claimed, actual)) {
      stream.sink.abort('SHA-256 of the received bytes does not match the sender\'s');
      this.context.refuse(ack, 'SHA-256 of the received bytes does not match the sender\'s');
      return;
    }
    try {
      const signature = typeof t.signature === 'string' && t.signature.length <= 256 ? t.signature : undefined;
      await stream.sink.end({ sha256: actual.toString('hex'), ...(signature ? { signature } : {}) });
      ack({ ok: true });
    } catch (e) {
      this.context.refuse(ack, errorText(e));
    }
  }

  abort(info: unknown): void {
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

  abortAll(reason: string): void {
    for (const [id, stream] of [...this.open]) this.fail(id, stream, reason);
  }
}
