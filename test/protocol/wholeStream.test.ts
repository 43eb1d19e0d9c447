import { createHash, randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StreamMeta } from '../../src/protocol/messages.js';
import { TransferError, maxHttpBufferSizeFor } from '../../src/protocol/peer.js';
import { PayloadNotHeldError } from '../../src/protocol/refusalCode.js';
import { recordingSink, usePeerPair } from '../helpers/peerPair.js';

const KiB = 1024;
const meta: StreamMeta = { kind: 'fit-result', round: 1, taskId: 'task-1', numExamples: 5, metrics: { loss: 0.5 } };
/** Marks a case sent with the header alone, as an empty stream is. */
const NO_ARGUMENT = Symbol('no bytes argument');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');


const peers = usePeerPair(maxHttpBufferSizeFor(256 * KiB));
const { serverPeer, clientPeer, raw } = peers;
/** Events as they reach the server's socket, next to the Peer's own listeners. */
let events: string[];

beforeEach(() => {
  events = [];
  for (const event of ['stream:begin', 'stream:chunk', 'stream:end', 'stream:whole']) peers.pair.server.on(event, () => void events.push(event));
});

describe('a stream that fits one chunk travels whole', () => {
  it('as one message with one acknowledgement, bytes, hash and signature intact; a larger one in steps', async () => {
    const sinks = [recordingSink(), recordingSink()];
    serverPeer().onStream(() => sinks.shift()!);
    const sender = clientPeer({ chunkBytes: 64 * KiB, wholeStreamBytes: 48 * KiB });
    const small = randomBytes(48 * KiB);
    const [first] = sinks;
    // Two pieces from the source: gathered into one buffer.
    await sender.sendStream(meta, small.length, [small.subarray(0, 1000), small.subarray(1000)], { sign: (digest) => `signed:${digest}` });
    expect(events).toEqual(['stream:whole']);
    expect(Buffer.concat(first!.chunks).equals(small)).toBe(true);
    expect(first!.trailers).toEqual([{ sha256: sha256(small), signature: `signed:${sha256(small)}` }]);
    expect(sender.bytesOut).toBe(small.length);

    // One byte past wholeStreamBytes: header first, then the bytes, then the trailer.
    events = [];
    const larger = randomBytes(48 * KiB + 1);
    await sender.sendStream(meta, larger.length, [larger]);
    expect(events).toEqual(['stream:begin', 'stream:chunk', 'stream:end']);
    expect(peers.problems).toEqual([]);
  });

  it('carries an empty payload (a task naming a payload the receiver holds) and a hash given ahead', async () => {
    const sink = recordingSink({ write: () => Promise.reject(new Error('a task that reuses a payload carries no bytes')) });
    serverPeer().onStream(() => sink);
    const held = sha256(randomBytes(32));
    const arities: number[] = [];
    peers.pair.server.on('stream:whole', (...args: unknown[]) => void arities.push(args.length));
    await clientPeer().sendStream(meta, 0, [], { sign: () => 'sig' });
    expect(events).toEqual(['stream:whole']);
    // No bytes argument (socket.io would send an empty binary frame for one): the header and the ack alone.
    expect(arities).toEqual([2]);
    expect(sink.trailers).toEqual([{ sha256: sha256(new Uint8Array(0)), signature: 'sig' }]);
    // A stated hash is what the receiver checks: a wrong one is refused like a corrupted payload.
    await expect(clientPeer().sendStream(meta, 0, [], { sha256: held })).rejects.toThrow(/SHA-256 of the received bytes does not match the sender's/);
  });

  it("passes on the handler's refusal and its code, and the sink's, through the one acknowledgement", async () => {
    const refusals = [new PayloadNotHeldError('the task reuses payload 0123..., which this client does not hold: send it'), new Error('stale or unknown fit task')];
    const peer = serverPeer();
    peer.onStream(() => {
      const refusal = refusals.shift();
      if (refusal) throw refusal;
      return recordingSink({ write: () => Promise.reject(new Error('NaN at 3')) });
    });
    const sender = clientPeer();
    const notHeld = await sender.sendStream(meta, 4, [new Uint8Array(4)]).catch((e: unknown) => e);
    expect(notHeld).toBeInstanceOf(TransferError);
    expect((notHeld as TransferError).code).toBe('payload-not-held');
    await expect(sender.sendStream(meta, 4, [new Uint8Array(4)])).rejects.toThrow(/peer refused the fit-result stream: stale or unknown fit task/);
    await expect(sender.sendStream(meta, 4, [new Uint8Array(4)])).rejects.toThrow(/peer refused the fit-result stream: NaN at 3/);
  });

  it('never leaves when the source produces fewer bytes than announced', async () => {
    let calls = 0;
    serverPeer().onStream(() => (calls++, recordingSink()));
    await expect(clientPeer().sendStream(meta, 100, [new Uint8Array(60)])).rejects.toThrow(/stream announced 100 bytes but produced 60/);
    expect(events).toEqual([]);
    expect(calls).toBe(0);
  });
});

describe('a hostile sender of whole streams is refused', () => {
  const id = 'whole-1';
  const bytes = new Uint8Array(randomBytes(64));
  const header = { id, meta, totalBytes: bytes.length, sha256: sha256(bytes) };

  it('for a wrong length, non-binary bytes, a wrong or malformed hash, or more than it may send whole, before its handler', async () => {
    let calls = 0;
    serverPeer({ chunkBytes: 1 * KiB, wholeStreamBytes: 512 }).onStream(() => (calls++, recordingSink()));
    const big = new Uint8Array(513);
    const cases: [unknown, unknown, string][] = [
      [header, bytes.subarray(1), 'stream carries 63 bytes but announced 64'],
      [header, new Uint8Array(65), 'stream carries 65 bytes but announced 64'],
      [{ ...header, totalBytes: 0 }, bytes, 'stream carries 64 bytes but announced 0'],
      [header, Array.from(bytes), 'the bytes of a stream sent whole are not binary'],
      [header, undefined, 'the bytes of a stream sent whole are not binary'],
      [header, NO_ARGUMENT, 'stream carries 0 bytes but announced 64'],
      [{ ...header, sha256: sha256(new Uint8Array(64)) }, bytes, "SHA-256 of the received bytes does not match the sender's"],
      [{ ...header, sha256: 'AB'.repeat(32) }, bytes, "SHA-256 of the received bytes does not match the sender's"],
      [{ id, meta, totalBytes: 64 }, bytes, "SHA-256 of the received bytes does not match the sender's"],
      [{ ...header, totalBytes: 513, sha256: sha256(big) }, big, 'a stream sent whole may carry at most 512 bytes, this one announced 513: send it in chunks'],
      [{ ...header, meta: { ...meta, numExamples: 0 } }, bytes, 'malformed stream header: numExamples'],
      [{ ...header, id: '' }, bytes, 'malformed stream header: missing, duplicate or overlong id'],
    ];
    for (const [h, b, error] of cases) {
      const ack = (await (b === NO_ARGUMENT ? raw('stream:whole', h) : raw('stream:whole', h, b))) as { ok: boolean; error: string };
      expect(ack.ok, error).toBe(false);
      expect(ack.error).toContain(error);
    }
    expect(calls).toBe(0);
    expect(peers.problems).toHaveLength(cases.length);
    // Control: the same frame, well formed, is accepted.
    expect(await raw('stream:whole', header, bytes)).toEqual({ ok: true });
    expect(calls).toBe(1);
  });

  it('for the same id twice, or one stream more than allowed open, while its handler waits', async () => {
    let release: () => void = () => undefined;
    const slot = new Promise<void>((r) => (release = r));
    const sink = recordingSink();
    serverPeer({ maxOpenStreams: 2 }).onStream(async () => (await slot, sink));
    const first = raw('stream:whole', header, bytes);
    await new Promise((r) => setTimeout(r, 50));
    expect(await raw('stream:whole', header, bytes)).toEqual({ ok: false, error: 'malformed stream header: missing, duplicate or overlong id' });
    expect(await raw('stream:begin', { id, meta, totalBytes: 64 })).toEqual({ ok: false, error: 'malformed stream header: missing, duplicate or overlong id' });
    const second = raw('stream:whole', { ...header, id: 'whole-2' }, bytes);
    await new Promise((r) => setTimeout(r, 50));
    expect(await raw('stream:whole', { ...header, id: 'whole-3' }, bytes)).toEqual({ ok: false, error: 'too many open streams (limit 2)' });
    release();
    expect(await first).toEqual({ ok: true });
    expect(await second).toEqual({ ok: true });
    expect(sink.chunks).toHaveLength(2);
  });

  it('for a chunk or an end sent after it (frames out of order): the stream fails and its sink is aborted', async () => {
    for (const [event, args, error] of [
      ['stream:chunk', [id, 0, bytes], 'chunk for a stream sent whole'],
      ['stream:end', [{ id, sha256: sha256(bytes) }], 'end of a stream sent whole'],
    ] as const) {
      let release: () => void = () => undefined;
      const slot = new Promise<void>((r) => (release = r));
      const sink = recordingSink();
      serverPeer().onStream(async () => (await slot, sink));
      const whole = raw('stream:whole', header, bytes);
      await new Promise((r) => setTimeout(r, 50));
      expect(await raw(event, ...args)).toEqual({ ok: false, error });
      release();
      expect(await whole).toEqual({ ok: false, error });
      expect(await sink.aborted).toBe(error);
      expect(sink.chunks).toEqual([]);
      expect(sink.trailers).toEqual([]);
      await peers.reopen();
    }
  });

  it('aborts the sink when the sender aborts or disconnects while its handler waits', async () => {
    let release: () => void = () => undefined;
    const slot = new Promise<void>((r) => (release = r));
    const sinks = [recordingSink(), recordingSink()];
    serverPeer().onStream(async () => (await slot, sinks.shift()!));
    const aborted = sinks[0]!;
    const dropped = sinks[1]!;
    void raw('stream:whole', header, bytes).catch(() => undefined);
    void raw('stream:whole', { ...header, id: 'whole-2' }, bytes).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    peers.pair.client.emit('stream:abort', { id, reason: 'trainer crashed' });
    await new Promise((r) => setTimeout(r, 50));
    const gone = new Promise((r) => peers.pair.server.on('disconnect', r));
    peers.pair.client.disconnect();
    await gone;
    release();
    expect(await aborted.aborted).toBe('sender aborted: trainer crashed');
    expect(await dropped.aborted).toBe('peer disconnected');
    expect([...aborted.chunks, ...dropped.chunks]).toEqual([]);
  });
});
