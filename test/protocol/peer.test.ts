import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Message, StreamMeta } from '../../src/protocol/messages.js';
import { Peer, maxHttpBufferSizeFor, type StreamSink } from '../../src/protocol/peer.js';
import { recordingSink, usePeerPair } from '../helpers/peerPair.js';

const KiB = 1024;
const meta: StreamMeta = { kind: 'fit-result', round: 1, taskId: 'task-1', numExamples: 5, metrics: { loss: 0.5 } };
const welcome: Message = { type: 'welcome', protocolVersion: 1, runId: 'run', clientId: 'c1' };


function* slices(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, Math.min(bytes.length, at + size));
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const peers = usePeerPair(maxHttpBufferSizeFor(256 * KiB));
const { serverPeer, clientPeer, raw } = peers;

describe('Peer messages', () => {
  it('delivers a valid message to the handler and acknowledges it', async () => {
    const server = serverPeer();
    const received: Message[] = [];
    server.onMessage((m) => void received.push(m));
    await clientPeer().send(welcome);
    expect(received).toEqual([welcome]);
    expect(peers.problems).toEqual([]);
  });

  it('refuses malformed payloads with a "malformed message" ack, and reports each as a protocol error', async () => {
    const server = serverPeer();
    const received: Message[] = [];
    server.onMessage((m) => void received.push(m));
    const bad = [42, 'hello', null, [], { type: 'launch' }, { type: 'welcome', runId: 'r' }, { ...welcome, protocolVersion: 1.5 }];
    for (const payload of bad) {
      const ack = (await raw('msg', payload)) as { ok: boolean; error?: string };
      expect(ack.ok).toBe(false);
      expect(ack.error).toMatch(/^malformed message: /);
    }
    expect(((await raw('msg', { type: 'welcome', runId: 'r' })) as { error: string }).error).toMatch(/protocolVersion/);
    expect(received).toEqual([]);
    expect(peers.problems).toHaveLength(bad.length + 1);
    expect(peers.problems.every((p) => p.startsWith('malformed message: '))).toBe(true);
  });

  it('turns a handler error into a refusal that send() rejects with', async () => {
    const server = serverPeer();
    server.onMessage(() => {
      throw new Error('not now');
    });
    await expect(clientPeer().send(welcome)).rejects.toThrow('peer refused welcome: not now');
    expect(peers.problems).toEqual(['not now']);
  });
});

describe('Peer streams', () => {
  it('moves several MB in small chunks intact, never with more than `window` chunks un-acknowledged', async () => {
    const chunkBytes = 64 * KiB;
    const window = 4;
    const payload = randomBytes(4 * 1024 * KiB + 1234); // last chunk partial
    const server = serverPeer({ chunkBytes });
    const received = Buffer.alloc(payload.length);
    let filled = 0;
    let arrived = 0;
    let written = 0;
    let maxOutstanding = 0;
    // Count chunks as they reach the receiving socket, next to (not instead of) the Peer's own listener.
    peers.pair.server.on('stream:chunk', () => {
      arrived++;
      maxOutstanding = Math.max(maxOutstanding, arrived - written);
    });
    let endedBeforeResolve = false;
    const sink = recordingSink({
      // A slow sink: acknowledgements lag, so the sender must stop at its window.
      write: async (chunk) => {
        await new Promise((r) => setTimeout(r, 2));
        received.set(chunk, filled);
        filled += chunk.length;
        written++;
      },
      end: () => void (endedBeforeResolve = true),
    });
    let announced: { meta: StreamMeta; totalBytes: number } | undefined;
    server.onStream((m, totalBytes) => {
      announced = { meta: m, totalBytes };
      return sink;
    });
    let produced = 0;
    const source = function* () {
      for (const s of slices(payload, chunkBytes)) {
        produced++;
        yield s;
      }
    };
    await clientPeer({ chunkBytes, window }).sendStream(meta, payload.length, source());
    expect(endedBeforeResolve).toBe(true);
    expect(announced).toEqual({ meta, totalBytes: payload.length });
    expect(filled).toBe(payload.length);
    expect(received.equals(payload)).toBe(true);
    expect(arrived).toBe(produced);
    expect(produced).toBe(Math.ceil(payload.length / chunkBytes));
    expect(maxOutstanding).toBeLessThanOrEqual(window);
    expect(maxOutstanding).toBe(window); // the window is actually used: chunks are pipelined
    expect(peers.problems).toEqual([]);
  });

  it('streams from the server end to the client end as well', async () => {
    const payload = randomBytes(300 * KiB);
    const sink = recordingSink();
    clientPeer({ chunkBytes: 32 * KiB }).onStream(() => sink);
    await serverPeer({ chunkBytes: 32 * KiB }).sendStream({ kind: 'evaluate', round: 2, taskId: 't', config: { round: 2, batchSize: 8 } }, payload.length, slices(payload, 32 * KiB));
    expect(Buffer.concat(sink.chunks).equals(payload)).toBe(true);
    expect(sink.ended).toBe(true);
  });

  it("rejects sendStream with the sink's message when the sink throws, and aborts the sink", async () => {
    const server = serverPeer({ chunkBytes: 16 * KiB });
    // The sink refuses the first chunk while the rest of the window is already on the wire.
    let writes = 0;
    const sink = recordingSink({
      write: () => {
        writes++;
        throw new Error('disk full');
      },
    });
    server.onStream(() => sink);
    const payload = randomBytes(200 * KiB);
    await expect(clientPeer({ chunkBytes: 16 * KiB }).sendStream(meta, payload.length, slices(payload, 16 * KiB))).rejects.toThrow(
      /peer refused a chunk of the fit-result stream: disk full/,
    );
    expect(await sink.aborted).toBe('disk full');
    expect(writes).toBe(1); // nothing is written after the failure
  });

  it('reports a refusal of a later chunk at once, even when earlier acks arrive together with it', async () => {
    const server = serverPeer({ chunkBytes: 16 * KiB });
    let writes = 0;
    server.onStream(() =>
      recordingSink({
        write: async () => {
          writes++;
          if (writes === 1) await new Promise((r) => setTimeout(r, 30));
          if (writes === 3) throw new Error('disk full');
        },
      }),
    );
    const payload = randomBytes(64 * KiB);
    const started = performance.now();
    await expect(clientPeer({ chunkBytes: 16 * KiB, ackTimeoutMs: 5_000 }).sendStream(meta, payload.length, slices(payload, 16 * KiB))).rejects.toThrow(/disk full/);
    expect(performance.now() - started).toBeLessThan(1_000); // the receiver's reason, not an ack timeout
  });

  it("rejects sendStream with the sink's message when the sink's end throws", async () => {
    const server = serverPeer();
    server.onStream(() => recordingSink({ end: () => Promise.reject(new Error('update not accepted: NaN at 3')) }));
    const payload = randomBytes(1000);
    await expect(clientPeer({ wholeStreamBytes: 0 }).sendStream(meta, payload.length, [payload])).rejects.toThrow(/peer rejected the fit-result stream: update not accepted: NaN at 3/);
    // Sent whole, the one acknowledgement carries the same reason.
    await expect(clientPeer().sendStream(meta, payload.length, [payload])).rejects.toThrow(/peer refused the fit-result stream: update not accepted: NaN at 3/);
  });

  it('refuses a stream handler error at begin, before pulling any chunk', async () => {
    serverPeer().onStream(() => {
      throw new Error('stale or unknown fit task');
    });
    let pulled = 0;
    const source = function* () {
      pulled++;
      yield new Uint8Array(10);
    };
    await expect(clientPeer({ wholeStreamBytes: 0 }).sendStream(meta, 10, source())).rejects.toThrow(/peer refused the fit-result stream: stale or unknown fit task/);
    expect(pulled).toBe(0);
  });

  it("refuses a stream beyond the receiver's maxTransferBytes before any chunk", async () => {
    const server = serverPeer({ maxTransferBytes: 1_000 });
    let handlerCalls = 0;
    server.onStream(() => {
      handlerCalls++;
      return recordingSink();
    });
    let pulled = 0;
    const source = function* () {
      pulled++;
      yield new Uint8Array(1_001);
    };
    await expect(clientPeer({ wholeStreamBytes: 0 }).sendStream(meta, 1_001, source())).rejects.toThrow(/stream of 1001 bytes exceeds the limit of 1000 bytes/);
    expect(pulled).toBe(0);
    expect(handlerCalls).toBe(0);
    // Sent whole, the same limit refuses it before the handler.
    await expect(clientPeer().sendStream(meta, 1_001, source())).rejects.toThrow(/stream of 1001 bytes exceeds the limit of 1000 bytes/);
    expect(handlerCalls).toBe(0);
    expect(peers.problems).toEqual(['stream of 1001 bytes exceeds the limit of 1000 bytes', 'stream of 1001 bytes exceeds the limit of 1000 bytes']);
    // Exactly at the limit is fine, either way.
    await clientPeer({ wholeStreamBytes: 0 }).sendStream(meta, 1_000, [new Uint8Array(1_000)]);
    await clientPeer().sendStream(meta, 1_000, [new Uint8Array(1_000)]);
    expect(handlerCalls).toBe(2);
  });

  it('aborts the sink when the sender produces fewer bytes than it announced', async () => {
    const sink = recordingSink();
    serverPeer().onStream(() => sink);
    await expect(clientPeer({ wholeStreamBytes: 0 }).sendStream(meta, 100, [new Uint8Array(60)])).rejects.toThrow(/stream announced 100 bytes but produced 60/);
    expect(await sink.aborted).toMatch(/sender aborted: stream announced 100 bytes but produced 60/);
    expect(sink.ended).toBe(false);
  });

  it('refuses a chunk larger than chunkBytes on the sending side', async () => {
    serverPeer().onStream(() => recordingSink());
    await expect(clientPeer({ chunkBytes: 1_000 }).sendStream(meta, 1_001, [new Uint8Array(1_001)])).rejects.toThrow(/chunk of 1001 bytes exceeds 1000/);
    // A small stream whose source overruns what it announced never leaves.
    await expect(clientPeer().sendStream(meta, 10, [new Uint8Array(8), new Uint8Array(8)])).rejects.toThrow(/stream announced 10 bytes but produced more/);
  });
});

describe('Peer refuses a misbehaving sender', () => {
  const id = 'stream-1';

  async function begin(totalBytes: number, sink: StreamSink, options: ConstructorParameters<typeof Peer>[1] = {}) {
    serverPeer(options).onStream(() => sink);
    expect(await raw('stream:begin', { id, meta, totalBytes })).toEqual({ ok: true });
  }

  it('refuses malformed stream headers', async () => {
    let handlerCalls = 0;
    serverPeer().onStream(() => {
      handlerCalls++;
      return recordingSink();
    });
    const cases: [unknown, RegExp][] = [
      [null, /missing, duplicate or overlong id/],
      [{ meta, totalBytes: 1 }, /missing, duplicate or overlong id/],
      [{ id: 'x'.repeat(65), meta, totalBytes: 1 }, /overlong id/],
      [{ id, meta, totalBytes: -1 }, /totalBytes must be a non-negative integer/],
      [{ id, meta, totalBytes: 1.5 }, /totalBytes must be a non-negative integer/],
      [{ id, meta, totalBytes: '10' }, /totalBytes must be a non-negative integer/],
      [{ id, meta: { kind: 'weights' }, totalBytes: 1 }, /malformed stream header: kind/],
      [{ id, meta: { ...meta, numExamples: 0 }, totalBytes: 1 }, /malformed stream header: numExamples/],
    ];
    for (const [header, error] of cases) {
      const ack = (await raw('stream:begin', header)) as { ok: boolean; error: string };
      expect(ack.ok).toBe(false);
      expect(ack.error).toMatch(error);
    }
    expect(handlerCalls).toBe(0);
    expect(peers.problems).toHaveLength(cases.length);
  });

  it('refuses a chunk for an unknown stream', async () => {
    serverPeer().onStream(() => recordingSink());
    expect(await raw('stream:chunk', 'nobody', 0, new Uint8Array(4))).toEqual({ ok: false, error: 'chunk for an unknown stream' });
    expect(await raw('stream:end', { id: 'nobody', sha256: sha256(new Uint8Array(0)) })).toEqual({ ok: false, error: 'end of an unknown stream' });
    expect(peers.problems).toEqual(['chunk for an unknown stream', 'end of an unknown stream']);
  });

  it('refuses an out-of-order chunk, aborts the sink and forgets the stream', async () => {
    const sink = recordingSink();
    await begin(8, sink);
    expect(await raw('stream:chunk', id, 1, new Uint8Array(4))).toEqual({ ok: false, error: 'chunk 1 arrived out of order (expected 0)' });
    expect(await sink.aborted).toBe('chunk 1 arrived out of order (expected 0)');
    expect(await raw('stream:chunk', id, 0, new Uint8Array(4))).toEqual({ ok: false, error: 'chunk for an unknown stream' });
    expect(sink.chunks).toHaveLength(0);
  });

  it('refuses a replayed chunk sequence number', async () => {
    const sink = recordingSink();
    await begin(8, sink);
    expect(await raw('stream:chunk', id, 0, new Uint8Array(4))).toEqual({ ok: true });
    expect(await raw('stream:chunk', id, 0, new Uint8Array(4))).toEqual({ ok: false, error: 'chunk 0 arrived out of order (expected 1)' });
    expect(await sink.aborted).toMatch(/out of order/);
  });

  it('refuses a non-binary chunk', async () => {
    const sink = recordingSink();
    await begin(8, sink);
    expect(await raw('stream:chunk', id, 0, [1, 2, 3, 4])).toEqual({ ok: false, error: 'chunk is not binary' });
    expect(await sink.aborted).toBe('chunk is not binary');
  });

  it('refuses a chunk larger than the receiver allows', async () => {
    const sink = recordingSink();
    await begin(100, sink, { chunkBytes: 16 });
    expect(await raw('stream:chunk', id, 0, new Uint8Array(17))).toEqual({ ok: false, error: 'chunk of 17 bytes exceeds 16' });
  });

  it('refuses more bytes than the stream announced', async () => {
    const sink = recordingSink();
    await begin(6, sink);
    expect(await raw('stream:chunk', id, 0, new Uint8Array(4))).toEqual({ ok: true });
    expect(await raw('stream:chunk', id, 1, new Uint8Array(4))).toEqual({ ok: false, error: 'stream carries more than its announced 6 bytes' });
    expect(await sink.aborted).toMatch(/more than its announced 6 bytes/);
  });

  it('refuses an end that arrives before all announced bytes', async () => {
    const sink = recordingSink();
    await begin(8, sink);
    const part = new Uint8Array([1, 2, 3, 4]);
    expect(await raw('stream:chunk', id, 0, part)).toEqual({ ok: true });
    expect(await raw('stream:end', { id, sha256: sha256(part) })).toEqual({ ok: false, error: 'stream ended after 4 of 8 bytes' });
    expect(await sink.aborted).toBe('stream ended after 4 of 8 bytes');
    expect(sink.ended).toBe(false);
  });

  it('refuses an end whose SHA-256 does not match the bytes received', async () => {
    const sink = recordingSink();
    await begin(4, sink);
    const bytes = new Uint8Array([1, 2, 3, 4]);
    expect(await raw('stream:chunk', id, 0, bytes)).toEqual({ ok: true });
    const error = "SHA-256 of the received bytes does not match the sender's";
    expect(await raw('stream:end', { id, sha256: sha256(new Uint8Array([1, 2, 3, 5])) })).toEqual({ ok: false, error });
    expect(await sink.aborted).toBe(error);
    expect(sink.ended).toBe(false);
    expect(peers.problems).toContain(error);
  });

  it('refuses an end with a missing or malformed hash', async () => {
    const sink = recordingSink();
    await begin(0, sink);
    expect(await raw('stream:end', { id, sha256: 'not-hex' })).toEqual({ ok: false, error: "SHA-256 of the received bytes does not match the sender's" });
    expect(sink.ended).toBe(false);
  });

  it('accepts a well-behaved raw sender (the refusals above are not refusing everything)', async () => {
    const sink = recordingSink();
    await begin(6, sink);
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6]);
    expect(await raw('stream:chunk', id, 0, bytes.subarray(0, 4))).toEqual({ ok: true });
    expect(await raw('stream:chunk', id, 1, bytes.subarray(4))).toEqual({ ok: true });
    expect(await raw('stream:end', { id, sha256: sha256(bytes) })).toEqual({ ok: true });
    expect(sink.ended).toBe(true);
    expect(Buffer.concat(sink.chunks)).toEqual(Buffer.from(bytes));
    expect(peers.problems).toEqual([]);
  });

  it('refuses a duplicate stream id and more open streams than allowed', async () => {
    serverPeer({ maxOpenStreams: 1 }).onStream(() => recordingSink());
    expect(await raw('stream:begin', { id, meta, totalBytes: 4 })).toEqual({ ok: true });
    expect(await raw('stream:begin', { id, meta, totalBytes: 4 })).toEqual({ ok: false, error: 'malformed stream header: missing, duplicate or overlong id' });
    expect(await raw('stream:begin', { id: 'other', meta, totalBytes: 4 })).toEqual({ ok: false, error: 'too many open streams (limit 1)' });
  });

  it("calls the sink's abort when the sender aborts", async () => {
    const sink = recordingSink();
    await begin(8, sink);
    peers.pair.client.emit('stream:abort', { id, reason: 'trainer crashed' });
    expect(await sink.aborted).toBe('sender aborted: trainer crashed');
  });

  it('aborts a stream whose sender goes quiet (socket open) as stalled, but not one waiting on its own slow sink', async () => {
    let cause: string | undefined;
    let onQuiet: (reason: string) => void = () => undefined;
    const stalled = new Promise<string>((r) => (onQuiet = r));
    const quiet = recordingSink({ abort: (reason, c) => ((cause = c), onQuiet(reason)) });
    // Control: the receiver's own sink takes 4 idle periods per chunk; the sender is waiting on it, not idle.
    const slow = recordingSink({ write: () => new Promise<void>((r) => setTimeout(r, 600)) });
    const sinks = [quiet, slow];
    serverPeer({ streamIdleTimeoutMs: 150 }).onStream(() => sinks.shift()!);

    // Quiet sender: one chunk, then nothing for longer than the idle timeout.
    expect(await raw('stream:begin', { id, meta, totalBytes: 8 })).toEqual({ ok: true });
    expect(await raw('stream:chunk', id, 0, new Uint8Array(4))).toEqual({ ok: true });
    expect(await stalled).toBe('no bytes for 150 ms: the stream stalled after 4 of 8 bytes');
    expect(cause).toBe('stalled');
    expect(await raw('stream:chunk', id, 1, new Uint8Array(4))).toEqual({ ok: false, error: 'chunk for an unknown stream' });

    const payload = new Uint8Array(randomBytes(8));
    expect(await raw('stream:begin', { id: 'stream-2', meta, totalBytes: 8 })).toEqual({ ok: true });
    expect(await raw('stream:chunk', 'stream-2', 0, payload.subarray(0, 4))).toEqual({ ok: true });
    expect(await raw('stream:chunk', 'stream-2', 1, payload.subarray(4))).toEqual({ ok: true });
    expect(await raw('stream:end', { id: 'stream-2', sha256: sha256(payload) })).toEqual({ ok: true });
    expect(slow.ended).toBe(true);
  });

  it('aborts a stream that trickles below the minimum rate as stalled, but not one sent at that rate', async () => {
    let onStalled: (reason: string) => void = () => undefined;
    const stalled = new Promise<string>((r) => (onStalled = r));
    const trickled = recordingSink({ abort: (reason, cause) => cause === 'stalled' && onStalled(reason) });
    const steady = recordingSink();
    const sinks = [trickled, steady];
    // Windows of 200 ms: at least 1,000 bytes/s means 200 bytes a window.
    serverPeer({ streamIdleTimeoutMs: 200, minStreamBytesPerSecond: 1_000 }).onStream(() => sinks.shift()!);
    // A byte every 50 ms (20 bytes/s): never idle for 200 ms, far below the rate.
    expect(await raw('stream:begin', { id, meta, totalBytes: 10_000 })).toEqual({ ok: true });
    for (let seq = 0; seq < 8; seq++) {
      const ack = await raw('stream:chunk', id, seq, new Uint8Array(1));
      if ((ack as { ok: boolean }).ok === false) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await stalled).toMatch(/^\d bytes in \d+ ms, below the minimum rate of 1000 bytes\/s: the stream stalled after \d of 10000 bytes$/);
    // Control: 100 bytes every 50 ms (2,000 bytes/s) for 600 ms is never aborted.
    const payload = new Uint8Array(randomBytes(1_200));
    expect(await raw('stream:begin', { id: 'steady', meta, totalBytes: payload.length })).toEqual({ ok: true });
    for (let seq = 0; seq < 12; seq++) {
      expect(await raw('stream:chunk', 'steady', seq, payload.subarray(seq * 100, seq * 100 + 100))).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await raw('stream:end', { id: 'steady', sha256: sha256(payload) })).toEqual({ ok: true });
    expect(steady.ended).toBe(true);
  });

  it('tells which task a refused header or message named, so the task can fail at once', async () => {
    const peer = serverPeer({ maxTransferBytes: 100 });
    const named: [string, string][] = [];
    peer.onRefusedTask((taskId, problem) => void named.push([taskId, problem]));
    peer.onStream(() => {
      throw new Error('stale or unknown fit task');
    });
    peer.onMessage(() => {
      throw new Error('no open evaluate task');
    });
    await raw('stream:begin', { id, meta, totalBytes: 101 });
    await raw('stream:begin', { id, meta: { ...meta, numExamples: -1 }, totalBytes: 10 });
    await raw('stream:begin', { id, meta, totalBytes: 10 });
    await raw('msg', { type: 'evaluate-failure', round: 1, taskId: 'task-2', reason: 'x'.repeat(5_000) });
    await raw('msg', { type: 'evaluate-failure', round: 1, taskId: 'task-2', reason: 'no data' });
    await raw('stream:begin', { id, meta: { ...meta, taskId: 7 }, totalBytes: 101 }); // names no task in the protocol's form
    expect(named).toEqual([
      ['task-1', 'stream of 101 bytes exceeds the limit of 100 bytes'],
      ['task-1', expect.stringMatching(/^malformed stream header: numExamples/)],
      ['task-1', 'stale or unknown fit task'],
      ['task-2', expect.stringMatching(/^malformed message: reason/)],
      ['task-2', 'no open evaluate task'],
    ]);
  });

  it("calls the sink's abort when the sender disconnects mid-stream", async () => {
    const sink = recordingSink();
    await begin(8, sink);
    expect(await raw('stream:chunk', id, 0, new Uint8Array(4))).toEqual({ ok: true });
    peers.pair.client.disconnect();
    expect(await sink.aborted).toBe('peer disconnected');
    expect(sink.ended).toBe(false);
  });
});
