import { afterEach, beforeEach } from 'vitest';
import { Peer, type StreamSink, type StreamTrailer } from '../../src/protocol/peer.js';
import type { SocketLike } from '../../src/protocol/socketLike.js';
import { openSocketPair, type SocketPair } from './socketPair.js';

type PeerOptions = ConstructorParameters<typeof Peer>[1];

/** A sink that keeps copies of what it receives, its trailers, and its abort reason as a promise. */
export interface RecordingSink extends StreamSink {
  readonly chunks: Uint8Array[];
  readonly trailers: StreamTrailer[];
  readonly aborted: Promise<string>;
  ended: boolean;
}

export function recordingSink(overrides: Partial<StreamSink> = {}): RecordingSink {
  let onAbort: (reason: string) => void = () => undefined;
  const aborted = new Promise<string>((resolve) => (onAbort = resolve));
  const sink: RecordingSink = {
    chunks: [],
    trailers: [],
    aborted,
    ended: false,
    write: (chunk) => void sink.chunks.push(Uint8Array.from(chunk)),
    end: (trailer) => {
      sink.trailers.push(trailer);
      sink.ended = true;
    },
    abort: (reason) => onAbort(reason),
    ...overrides,
  };
  return sink;
}

/** Both ends of a real loopback socket.io connection, opened before each test of the calling file and closed after it. */
export interface PeerPair {
  readonly pair: SocketPair;
  /** Every protocol error the server-side Peers reported this test. */
  readonly problems: string[];
  /** Wraps the server end in a Peer that records its protocol errors in `problems`. */
  serverPeer(options?: PeerOptions): Peer;
  clientPeer(options?: PeerOptions): Peer;
  /** The misbehaving sender: a raw socket.io-client emit with an acknowledgement. */
  raw(event: string, ...args: unknown[]): Promise<unknown>;
  /** Closes the connection and opens a fresh one, for a test that needs several in a row. */
  reopen(): Promise<void>;
}

export function usePeerPair(maxHttpBufferSize: number): PeerPair {
  let pair: SocketPair | undefined;
  let problems: string[] = [];
  beforeEach(async () => {
    pair = await openSocketPair(maxHttpBufferSize);
    problems = [];
  });
  afterEach(async () => pair?.close());
  const open = (): SocketPair => {
    if (!pair) throw new Error('usePeerPair: no socket pair outside a test');
    return pair;
  };
  return {
    get pair() {
      return open();
    },
    get problems() {
      return problems;
    },
    serverPeer: (options = {}) => {
      const peer = new Peer(open().server, { ackTimeoutMs: 5_000, ...options });
      peer.onProtocolError((p) => problems.push(p));
      return peer;
    },
    clientPeer: (options = {}) => new Peer(open().client as unknown as SocketLike, { ackTimeoutMs: 5_000, ...options }),
    raw: (event, ...args) => open().client.timeout(5_000).emitWithAck(event, ...args),
    reopen: async () => {
      await open().close();
      pair = await openSocketPair(maxHttpBufferSize);
    },
  };
}
