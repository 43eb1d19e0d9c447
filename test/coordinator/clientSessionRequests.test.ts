import { afterEach, describe, expect, it } from 'vitest';
import { ClientSession } from '../../src/coordinator/clientSession.js';
import { TaskError } from '../../src/coordinator/taskError.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { Peer } from '../../src/protocol/peer.js';
import type { SocketLike } from '../../src/protocol/socketLike.js';
import { openSocketPair, type SocketPair } from '../helpers/socketPair.js';
import { silent } from '../helpers/silentLogger.js';

let pair: SocketPair | undefined;
afterEach(async () => pair?.close());

function sessionOver(server: SocketLike): ClientSession {
  return new ClientSession(
    new Peer(server),
    { id: 'c1', name: 'site', numTrainExamples: 1, numTestExamples: 1, backend: 'js', role: 'client' } as unknown as ConstructorParameters<typeof ClientSession>[1],
    generateIdentity().publicKey,
    'run',
    { append: () => undefined } as unknown as ConstructorParameters<typeof ClientSession>[4],
    silent,
    () => '',
  );
}

describe('a request awaiting a client\'s reply (a secure mode\'s key exchange)', () => {
  it('fails as disconnected when the connection closes while the message is still unacknowledged, and leaves nothing unhandled', async () => {
    pair = await openSocketPair();
    // The raw client socket never acknowledges: the request is still sending when the connection closes.
    const waiting = sessionOver(pair.server);
    const request = waiting.request({ type: 'secagg-consistency', round: 1, survivors: ['a', 'b', 'c'] }, 'secagg-survivors-signed', 3_600_000);
    await new Promise((r) => setTimeout(r, 100));
    waiting.close('disconnected (ping timeout)');
    await expect(request).rejects.toThrow(/disconnected \(ping timeout\)/);
  });

  it('fails as disconnected the moment the connection closes, not at its deadline', async () => {
    pair = await openSocketPair();
    const session = new ClientSession(
      new Peer(pair.server),
      { id: 'c1', name: 'site', numTrainExamples: 1, numTestExamples: 1, backend: 'js', role: 'client' } as unknown as ConstructorParameters<typeof ClientSession>[1],
      generateIdentity().publicKey,
      'run',
      { append: () => undefined } as unknown as ConstructorParameters<typeof ClientSession>[4],
      silent,
      () => '',
    );
    // The client acknowledges the message (as a node does once it has read it) and then goes away without replying.
    const client = new Peer(pair.client as unknown as SocketLike);
    let received = 0;
    client.onMessage(() => void received++);
    const waiting = session.request({ type: 'secagg-consistency', round: 1, survivors: ['a', 'b', 'c'] }, 'secagg-survivors-signed', 3_600_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toBe(1);
    session.close('disconnected (transport close)');
    // With a one-hour deadline, only the close can settle it within the test's time.
    await expect(waiting).rejects.toThrow(TaskError);
    await expect(waiting).rejects.toThrow(/disconnected \(transport close\)/);
  });
});
