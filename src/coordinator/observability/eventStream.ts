import type { ServerResponse } from 'node:http';
import { baseHeaders } from './httpReply.js';

export interface EventStreamOptions {
  /** A comment line this often keeps proxies from closing idle streams (ms). */
  readonly heartbeatMs?: number;
  /** Open streams at most; more are answered 503 (a bound even among observers: each holds a socket). */
  readonly maxStreams?: number;
  /** A stream whose unsent backlog exceeds this is dropped: a stalled reader must not grow memory (bytes). */
  readonly maxBacklogBytes?: number;
}

export interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
}

/** One Server-Sent Event frame. JSON has no raw newlines, so `data` is a single line. */
export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Server-Sent Events (WHATWG HTML, "Server-sent events") to any number of readers. `end()` closes every
 * stream and answers later requests 204, which tells an EventSource to stop reconnecting; it must run
 * before the HTTP server closes, since an open stream would hold the close.
 */
export class EventStream {
  private readonly streams = new Set<ServerResponse>();
  private ended = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxStreams: number;
  private readonly maxBacklogBytes: number;

  constructor(options: EventStreamOptions = {}) {
    this.maxStreams = options.maxStreams ?? 64;
    this.maxBacklogBytes = options.maxBacklogBytes ?? 8 * 1024 * 1024;
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Answers an EventSource request: sends `initial`, then every broadcast unless `close` is set. */
  open(response: ServerResponse, initial: readonly StreamEvent[], close = false): void {
    if (this.ended) {
      response.writeHead(204, { ...baseHeaders, connection: 'close' }).end();
      return;
    }
    if (!close && this.streams.size >= this.maxStreams) {
      response.writeHead(503, { ...baseHeaders, 'retry-after': '10', 'content-type': 'text/plain; charset=utf-8' }).end('too many open dashboards\n');
      return;
    }
    response.writeHead(200, { ...baseHeaders, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    response.write(`retry: 2000\n\n${initial.map((e) => frame(e.event, e.data)).join('')}`);
    if (close) {
      response.end();
      return;
    }
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  broadcast(event: string, data: unknown): void {
    // Nobody reading: no JSON. A simulation's 10,000 joins each publish the whole client table.
    if (this.streams.size === 0) return;
    this.write(frame(event, data));
  }

  /** Ends the open streams (after a last event that tells readers not to come back); new ones are served. */
  disconnectAll(): void {
    for (const response of this.streams) response.end();
    this.streams.clear();
  }

  /** Ends every stream and answers later requests 204; idempotent. */
  end(): void {
    this.ended = true;
    clearInterval(this.heartbeat);
    this.disconnectAll();
  }

  private write(text: string): void {
    for (const response of this.streams) {
      if (response.writableLength > this.maxBacklogBytes) {
        response.destroy();
        this.streams.delete(response);
        continue;
      }
      response.write(text);
    }
  }
}
