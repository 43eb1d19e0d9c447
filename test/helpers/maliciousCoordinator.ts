import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { signDownload } from '../../src/crypto/downloadSignature.js';
import { coordinatorProof, NONCE_BYTES, type HandshakeContext } from '../../src/crypto/handshake.js';
import { generateIdentity, sign, type Identity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import { maxHttpBufferSizeFor, Peer, DEFAULT_CHUNK_BYTES, TransferError } from '../../src/protocol/peer.js';
import type { Message, MessageOf, StreamMeta } from '../../src/protocol/messages.js';
import { encodedByteLength, encodeWeightsChunks } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import type { SocketLike } from '../../src/protocol/socketLike.js';

/** One client as the malicious coordinator sees it once the handshake is done. */
export interface Victim {
  readonly name: string;
  readonly identityKey: Uint8Array;
  /** The agreement key it published in its auth message (signed for this run). */
  readonly agreementKey: { readonly publicKey: string; readonly signature: string };
  readonly peer: Peer;
  /** Every message it sent after the handshake, in order. */
  readonly messages: Message[];
  /** Every upload stream it completed: the header and the byte count. */
  readonly uploads: { readonly meta: StreamMeta; readonly bytes: number }[];
  /** Resolves with the next message of `type` it sends (or one already received and not yet taken). */
  next<T extends Message['type']>(type: T, timeoutMs?: number): Promise<MessageOf<T>>;
}

/**
 * A coordinator written for attack tests: it speaks the real protocol (socket.io, the Peer transport, the
 * signed handshake, signed downloads) with a key the clients pin, but every message after the handshake is
 * the test's to choose: fake key boxes, Sybil recipients, plaintext tasks, weaker DP instructions.
 */
export class MaliciousCoordinator {
  readonly victims = new Map<string, Victim>();
  private arrivals: ((v: Victim) => void)[] = [];

  private constructor(
    readonly url: string,
    readonly identity: Identity,
    readonly runId: string,
    private readonly io: Server,
  ) {}

  static async start(identity: Identity = generateIdentity(), runId: string = randomUUID()): Promise<MaliciousCoordinator> {
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: maxHttpBufferSizeFor(DEFAULT_CHUNK_BYTES) });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const coordinator = new MaliciousCoordinator(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, identity, runId, io);
    io.on('connection', (socket) => coordinator.handshake(new Peer(socket as unknown as SocketLike)));
    return coordinator;
  }

  /** Resolves once a client of this name has completed the handshake. */
  async victim(name: string, timeoutMs = 10_000): Promise<Victim> {
    const deadline = Date.now() + timeoutMs;
    while (!this.victims.has(name)) {
      if (Date.now() > deadline) throw new Error(`${name} did not complete the handshake`);
      await new Promise<void>((r) => this.arrivals.push(() => r()));
    }
    return this.victims.get(name)!;
  }

  /** Streams a task to `victim`, signed with `signer` (default: this coordinator's key; null: unsigned). Resolves to the client's refusal, or undefined if it took the task. */
  async task(victim: Victim, meta: StreamMeta, weights: Weights, signer: Uint8Array | null = this.identity.secretKey): Promise<string | undefined> {
    try {
      await victim.peer.sendStream(meta, encodedByteLength(weights), encodeWeightsChunks(weights, DEFAULT_CHUNK_BYTES), {
        ...(signer ? { sign: (sha256: string) => signDownload({ runId: this.runId, client: victim.name, meta, payloadHash: sha256 }, signer) } : {}),
      });
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** Streams a task that names a payload by SHA-256 (`meta.reuses`) and carries no bytes. Resolves to the client's refusal and its code, or undefined if it took the task. */
  async reference(victim: Victim, meta: StreamMeta): Promise<{ readonly message: string; readonly code?: string } | undefined> {
    try {
      await victim.peer.sendStream(meta, 0, [], { sign: (sha256: string) => signDownload({ runId: this.runId, client: victim.name, meta, payloadHash: sha256 }, this.identity.secretKey) });
      return undefined;
    } catch (e) {
      return { message: (e as Error).message, ...(e instanceof TransferError && e.code ? { code: e.code } : {}) };
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  private handshake(peer: Peer): void {
    let context: HandshakeContext | undefined;
    let name = '';
    peer.onMessage((message) => {
      if (message.type === 'hello') {
        name = message.name;
        context = {
          runId: this.runId,
          protocolVersion: PROTOCOL_VERSION,
          clientName: message.name,
          clientKey: new Uint8Array(Buffer.from(message.identityKey, 'base64')),
          clientNonce: new Uint8Array(Buffer.from(message.nonce, 'base64')),
          coordinatorKey: this.identity.publicKey,
          coordinatorNonce: new Uint8Array(randomBytes(NONCE_BYTES)),
        };
        peer.notify({
          type: 'challenge',
          protocolVersion: PROTOCOL_VERSION,
          runId: this.runId,
          coordinatorKey: encodeBase64(this.identity.publicKey),
          nonce: encodeBase64(context.coordinatorNonce),
          signature: encodeBase64(sign(coordinatorProof(context), this.identity.secretKey)),
        });
        return;
      }
      if (message.type === 'auth' && context && message.agreementKey) {
        const messages: Message[] = [];
        const uploads: { meta: StreamMeta; bytes: number }[] = [];
        peer.onStream((meta) => {
          let bytes = 0;
          return { write: (chunk) => void (bytes += chunk.length), end: () => void uploads.push({ meta, bytes }), abort: () => undefined };
        });
        const waiting: { type: string; resolve: (m: Message) => void }[] = [];
        const victim: Victim = {
          name,
          identityKey: context.clientKey,
          agreementKey: { publicKey: message.agreementKey.publicKey, signature: message.agreementKey.signature },
          peer,
          messages,
          uploads,
          next: <T extends Message['type']>(type: T, timeoutMs = 10_000) =>
            new Promise<MessageOf<T>>((resolve, reject) => {
              const at = messages.findIndex((m) => m.type === type);
              if (at >= 0) return resolve(messages.splice(at, 1)[0] as MessageOf<T>);
              const timer = setTimeout(() => reject(new Error(`${name} sent no ${type} within ${timeoutMs} ms`)), timeoutMs);
              waiting.push({ type, resolve: (m) => (clearTimeout(timer), resolve(m as MessageOf<T>)) });
            }),
        };
        peer.onMessage((m) => {
          const w = waiting.findIndex((x) => x.type === m.type);
          if (w >= 0) waiting.splice(w, 1)[0]!.resolve(m);
          else messages.push(m);
        });
        this.victims.set(name, victim);
        peer.notify({ type: 'welcome', protocolVersion: PROTOCOL_VERSION, runId: this.runId, clientId: randomUUID() });
        this.arrivals.splice(0).forEach((f) => f(victim));
      }
    });
  }
}
