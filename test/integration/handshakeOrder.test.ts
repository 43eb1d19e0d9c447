import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { LinearTrainer } from '../helpers/linearTrainer.js';
import { rawHello } from '../helpers/rawHandshake.js';
import { silent } from '../helpers/silentLogger.js';
import { connectRawSocket, disconnected } from '../helpers/socketPair.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The next `refused` the coordinator sends on this socket. */
function nextRefusal(socket: Socket): Promise<{ reason: string; retryAfterMs?: number }> {
  return new Promise((resolve) => {
    const listener = (m: { type: string; reason: string; retryAfterMs?: number }) => {
      if (m?.type !== 'refused') return;
      socket.off('msg', listener);
      resolve(m);
    };
    socket.on('msg', listener);
  });
}

async function coordinator(): Promise<Coordinator> {
  const trainer = new LinearTrainer([[1, 2]], [1]);
  const c = await Coordinator.start({ strategy: new FedAvg({ minFitClients: 1, fit: { epochs: 1, batchSize: 4, learningRate: 0.1 } }), initialWeights: trainer.getWeights(), rounds: 1, logger: silent });
  cleanups.push(() => c.close());
  return c;
}

describe('a handshake out of order', () => {
  it('ends the connection with a transient refusal: a message left over from an earlier connection is no verdict on the node', async () => {
    const c = await coordinator();
    // An auth where the hello belongs, as a node's stale auth replayed on its next connection would arrive.
    const early = await connectRawSocket(c.url);
    cleanups.push(() => early.disconnect());
    const refusal = nextRefusal(early);
    const gone = disconnected(early);
    early.emit('msg', { type: 'auth', signature: Buffer.alloc(64).toString('base64') });
    expect(await refusal).toEqual({ type: 'refused', reason: 'expected hello first, got "auth"', retryAfterMs: 1_000 });
    await gone; // the connection still ends

    // A second hello where the auth belongs (a stale hello replayed ahead of the fresh one).
    const twice = await connectRawSocket(c.url);
    cleanups.push(() => twice.disconnect());
    const again = nextRefusal(twice);
    const { message } = rawHello('site');
    twice.emit('msg', message);
    twice.emit('msg', message);
    expect(await again).toEqual({ type: 'refused', reason: 'expected auth after the challenge, got "hello"', retryAfterMs: 1_000 });
    await disconnected(twice);
  });
});
