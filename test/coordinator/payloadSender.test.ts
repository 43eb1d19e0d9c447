import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeGlobal } from '../../src/coordinator/encodeGlobal.js';
import { PayloadSender } from '../../src/coordinator/payloadSender.js';
import type { StreamMeta, StreamMetaOf } from '../../src/protocol/messages.js';
import { Peer } from '../../src/protocol/peer.js';
import { PayloadNotHeldError } from '../../src/protocol/refusalCode.js';
import type { SocketLike } from '../../src/protocol/socketLike.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { silent } from '../helpers/silentLogger.js';
import { openSocketPair, type SocketPair } from '../helpers/socketPair.js';

/**
 * The coordinator half of "no payload travels twice", over a real socket: a payload the client acknowledged is
 * named, not sent again; a client that says it does not hold it (code payload-not-held) gets the bytes for the
 * same task, and any other refusal fails the task as before (no resend loop).
 */
const SIZE = 100_000;
const weights = (v: number): Weights => [{ name: 'w', shape: [SIZE], data: new Float32Array(SIZE).fill(v) }];
const evaluate = (taskId: string): StreamMetaOf<'evaluate'> => ({ kind: 'evaluate', round: 1, taskId, config: { round: 1, batchSize: 8 } });

/** The task header of a fit in round 2. */
const fit = (taskId: string): StreamMetaOf<'fit'> => ({ kind: 'fit', round: 2, taskId, config: { round: 2, epochs: 1, batchSize: 8, learningRate: 0.1 } });

let pair: SocketPair;
/** What the receiving end saw: each header and the bytes that came with it. */
let seen: { meta: StreamMeta; bytes: number }[];
/** How the receiving end answers a header that names a payload. */
let onReference: (meta: StreamMeta) => void;
let sender: PayloadSender;
/** Runs when a stream opens at the receiving end (before its first chunk). */
let onOpen: (meta: StreamMeta) => void;
/** Each chunk's write at the receiving end waits on this. */
let gate: Promise<void>;

beforeEach(async () => {
  pair = await openSocketPair(2 << 20);
  seen = [];
  onReference = () => undefined;
  onOpen = () => undefined;
  gate = Promise.resolve();
  const client = new Peer(pair.client as unknown as SocketLike, { ackTimeoutMs: 5_000 });
  client.onStream((meta) => {
    if ('reuses' in meta && meta.reuses !== undefined) onReference(meta);
    onOpen(meta);
    const entry = { meta, bytes: 0 };
    seen.push(entry);
    return {
      write: async (chunk) => {
        await gate;
        entry.bytes += chunk.length;
      },
      end: () => undefined,
      abort: () => undefined,
    };
  });
  sender = new PayloadSender(new Peer(pair.server, { ackTimeoutMs: 5_000 }), () => 'signature', silent, 'h0');
});

afterEach(async () => pair.close());

describe('PayloadSender', () => {
  it('sends a payload once, then names it by hash; a new payload goes whole again', async () => {
    const a = encodeGlobal(weights(1), 1 << 20);
    const b = encodeGlobal(weights(2), 1 << 20);
    await sender.send(evaluate('t1'), a);
    await sender.send({ kind: 'fit', round: 2, taskId: 't2', config: { round: 2, epochs: 1, batchSize: 8, learningRate: 0.1 } }, a);
    await sender.send({ kind: 'final', round: 2, taskId: 't3' }, b);
    expect(seen.map((s) => [s.meta.kind, s.bytes, 'reuses' in s.meta ? s.meta.reuses : undefined])).toEqual([
      ['evaluate', a.totalBytes, undefined],
      ['fit', 0, a.sha256],
      ['final', b.totalBytes, undefined],
    ]);
  });

  it('a client that does not hold the named payload gets the same task with the bytes', async () => {
    const a = encodeGlobal(weights(1), 1 << 20);
    await sender.send(evaluate('t1'), a);
    onReference = () => {
      throw new PayloadNotHeldError('this client does not hold it');
    };
    await sender.send(evaluate('t2'), a);
    // The refused reference opened no stream here; the resend carries the bytes under the same task id.
    expect(seen.map((s) => [s.meta.taskId, s.bytes])).toEqual([
      ['t1', a.totalBytes],
      ['t2', a.totalBytes],
    ]);
  });

  it('any other refusal of a reference fails the send, and the bytes are not pushed after it', async () => {
    const a = encodeGlobal(weights(1), 1 << 20);
    await sender.send(evaluate('t1'), a);
    onReference = () => {
      throw new Error('this task is outside my policy');
    };
    await expect(sender.send(evaluate('t2'), a)).rejects.toThrow(/outside my policy/);
    expect(seen.map((s) => s.meta.taskId)).toEqual(['t1']);
  });

  it("a new global's header and first bytes go before it is hashed, though the client holds another payload", async () => {
    const old = encodeGlobal(weights(1), 1 << 14);
    await sender.send(evaluate('t1'), old);
    const next = encodeGlobal(weights(2), 1 << 14);
    let hashedAtOpen = -1;
    onOpen = () => (hashedAtOpen = next.chunksHashed);
    let release = () => undefined as void;
    gate = new Promise<void>((resolve) => (release = resolve));
    const sent = sender.send(fit('t2'), next);
    // The receiver holds its first chunk: the sender is a window ahead of it, not a whole pass over the payload.
    await expect.poll(() => seen.length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const hashedWhileHeld = next.chunksHashed;
    release();
    await sent;
    expect(hashedAtOpen).toBe(0);
    expect(next.chunks.length).toBe(25);
    expect(hashedWhileHeld).toBeLessThan(10);
    // The receiving Peer checked the stated SHA-256 against the bytes it got: the stream would have failed otherwise.
    expect(seen.map((s) => [s.meta.taskId, s.bytes])).toEqual([
      ['t1', old.totalBytes],
      ['t2', next.totalBytes],
    ]);
  });

  it('a payload with the bytes the client holds is named, not sent, even when encoded apart', async () => {
    const a = encodeGlobal(weights(1), 1 << 20);
    await sender.send(evaluate('t1'), a);
    const same = encodeGlobal(weights(1), 1 << 16);
    await sender.send(fit('t2'), same);
    expect(seen.map((s) => [s.meta.taskId, s.bytes, 'reuses' in s.meta ? s.meta.reuses : undefined])).toEqual([
      ['t1', a.totalBytes, undefined],
      ['t2', 0, a.sha256],
    ]);
  });

  it('a payload that differs from the held one in a single value is sent whole: the sample is no proof of equality', async () => {
    const a = encodeGlobal(weights(1), 1 << 16);
    await sender.send(evaluate('t1'), a);
    const changed = weights(1);
    changed[0]!.data[12_345] = 1.5;
    const b = encodeGlobal(changed, 1 << 16);
    await sender.send(fit('t2'), b);
    expect(b.sha256).not.toBe(a.sha256);
    expect(seen.map((s) => [s.meta.taskId, s.bytes, 'reuses' in s.meta ? s.meta.reuses : undefined])).toEqual([
      ['t1', a.totalBytes, undefined],
      ['t2', b.totalBytes, undefined],
    ]);
  });
});
