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

let pair: SocketPair;
/** What the receiving end saw: each header and the bytes that came with it. */
let seen: { meta: StreamMeta; bytes: number }[];
/** How the receiving end answers a header that names a payload. */
let onReference: (meta: StreamMeta) => void;
let sender: PayloadSender;

beforeEach(async () => {
  pair = await openSocketPair(2 << 20);
  seen = [];
  onReference = () => undefined;
  const client = new Peer(pair.client as unknown as SocketLike, { ackTimeoutMs: 5_000 });
  client.onStream((meta) => {
    if ('reuses' in meta && meta.reuses !== undefined) onReference(meta);
    const entry = { meta, bytes: 0 };
    seen.push(entry);
    return { write: (chunk) => void (entry.bytes += chunk.length), end: () => undefined, abort: () => undefined };
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
});
