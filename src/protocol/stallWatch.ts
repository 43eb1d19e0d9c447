import type { OpenStream } from './openStream.js';
import type { PeerOptions } from './peerOptions.js';

/** The options that say when an inbound stream's sender has stalled. */
type StallLimits = Pick<PeerOptions, 'streamIdleTimeoutMs' | 'minStreamBytesPerSecond'>;

/** What a stall watch asks of the streams it watches: whether the stream is still open, and how to fail it as stalled. */
export interface StallWatcher {
  isOpen(): boolean;
  stalled(problem: string): void;
}

/** Aborts `stream` as stalled once its sender has been quiet for streamIdleTimeoutMs (this side idle too). */
export function watchIdle(stream: OpenStream, options: StallLimits, watcher: StallWatcher): void {
  const ms = options.streamIdleTimeoutMs;
  if (!(ms > 0)) return;
  stream.idle = setTimeout(() => {
    if (!watcher.isOpen()) return;
    // Our own sink is slow (an aggregation step): the sender waits for our acknowledgements, not the reverse.
    if (stream.writing > 0) return void stream.idle?.refresh();
    watcher.stalled(`no bytes for ${ms} ms: the stream stalled after ${stream.received} of ${stream.totalBytes} bytes`);
  }, ms);
  stream.idle.unref();
  watchRate(stream, ms, options, watcher);
}

/** Aborts `stream` as stalled when a window of `ms` brings fewer than minStreamBytesPerSecond (this side's busy time excluded). */
function watchRate(stream: OpenStream, ms: number, options: StallLimits, watcher: StallWatcher): void {
  const min = options.minStreamBytesPerSecond;
  if (!(min > 0)) return;
  let mark = stream.received;
  stream.rate = setInterval(() => {
    if (!watcher.isOpen()) return void clearInterval(stream.rate);
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
      watcher.stalled(`${got} bytes in ${Math.round(open)} ms, below the minimum rate of ${min} bytes/s: the stream stalled after ${stream.received} of ${stream.totalBytes} bytes`);
    }
  }, ms);
  stream.rate.unref();
}
