import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { clientProof, type HandshakeContext } from '../../src/crypto/handshake.js';
import { generateIdentity, sign, type Identity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import type { Ack } from '../../src/protocol/socketLike.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';

export interface RawHello {
  readonly identity: Identity;
  readonly nonce: Uint8Array;
  readonly message: Record<string, unknown>;
}

/** A well-formed hello for a raw socket, signed-in as `name` with `identity` (fresh by default). */
export function rawHello(name = 'mallory', overrides: Record<string, unknown> = {}, identity = generateIdentity()): RawHello {
  const nonce = new Uint8Array(randomBytes(32));
  return {
    identity,
    nonce,
    message: {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      name,
      identityKey: encodeBase64(identity.publicKey),
      nonce: encodeBase64(nonce),
      capabilities: { backend: 'js', numTrainExamples: 10, numTestExamples: 10, cohortVersion: '0.1.0' },
      modelSpec: [
        { name: 'w', shape: [2] },
        { name: 'b', shape: [1] },
      ],
      ...overrides,
    },
  };
}

interface Challenge {
  type: 'challenge';
  runId: string;
  coordinatorKey: string;
  nonce: string;
  signature: string;
}

/** Plays the client side of the handshake on a raw socket; resolves with the auth ack and the run id. */
export async function rawHandshake(socket: Socket, hello: RawHello, signWith?: Identity): Promise<{ ack: Ack; runId: string }> {
  const challenge = new Promise<Challenge>((resolve) => {
    const listener = (m: Challenge) => {
      if (m?.type !== 'challenge') return;
      socket.off('msg', listener);
      resolve(m);
    };
    socket.on('msg', listener);
  });
  const helloAck = (await socket.timeout(5_000).emitWithAck('msg', hello.message)) as Ack;
  if (!helloAck.ok) return { ack: helloAck, runId: '' };
  const c = await challenge;
  const context: HandshakeContext = {
    runId: c.runId,
    protocolVersion: PROTOCOL_VERSION,
    clientName: hello.message.name as string,
    clientKey: hello.identity.publicKey,
    clientNonce: hello.nonce,
    coordinatorKey: new Uint8Array(Buffer.from(c.coordinatorKey, 'base64')),
    coordinatorNonce: new Uint8Array(Buffer.from(c.nonce, 'base64')),
  };
  const signature = encodeBase64(sign(clientProof(context), (signWith ?? hello.identity).secretKey));
  const ack = (await socket.timeout(5_000).emitWithAck('msg', { type: 'auth', signature })) as Ack;
  return { ack, runId: c.runId };
}
