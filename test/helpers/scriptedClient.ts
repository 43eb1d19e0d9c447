import type { Socket } from 'socket.io-client';
import { canonicalClaims, uploadTranscript } from '../../src/crypto/handshake.js';
import { sign, type Identity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import type { StreamMetaOf } from '../../src/protocol/messages.js';
import { Peer } from '../../src/protocol/peer.js';
import type { SocketLike } from '../../src/protocol/socketLike.js';
import { encodeWeights, decodeWeights } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { rawHandshake, rawHello } from './rawHandshake.js';
import { connectRawSocket } from './socketPair.js';
import { HeldPayload } from './heldPayload.js';

export interface ReceivedFit {
  readonly meta: StreamMetaOf<'fit'>;
  readonly weights: Weights;
}

/**
 * A client whose every step the test scripts: it authenticates with the real handshake, then hands each
 * fit task to the test, which decides what (and how signed) to upload. For replay and forgery tests.
 */
export class ScriptedClient {
  readonly fits: ReceivedFit[] = [];
  private waiters: ((fit: ReceivedFit) => void)[] = [];

  private constructor(
    readonly socket: Socket,
    readonly peer: Peer,
    readonly name: string,
    readonly identity: Identity,
    readonly runId: string,
  ) {}

  /** `hello`: fields to override in the hello (a model spec other than the linear model's, say). */
  static async connect(url: string, name: string, identity: Identity, hello: Record<string, unknown> = {}): Promise<ScriptedClient> {
    const socket = await connectRawSocket(url);
    const signedHello = rawHello(name, hello, identity);
    const { ack, runId } = await rawHandshake(socket, signedHello);
    if (!ack.ok) throw new Error(`handshake refused: ${ack.error}`);
    const peer = new Peer(socket as unknown as SocketLike);
    const client = new ScriptedClient(socket, peer, name, identity, runId);
    peer.onMessage(() => undefined);
    const held = new HeldPayload();
    peer.onStream((meta) => {
      const parts: Uint8Array[] = [];
      return {
        write: (chunk) => void parts.push(Uint8Array.from(chunk)),
        end: (trailer) => {
          const bytes = held.payload(meta, parts, trailer.sha256);
          if (meta.kind !== 'fit') return;
          const fit = { meta, weights: decodeWeights(bytes) };
          client.fits.push(fit);
          client.waiters.shift()?.(fit);
        },
        abort: () => undefined,
      };
    });
    return client;
  }

  nextFit(): Promise<ReceivedFit> {
    const ready = this.fits.find((f) => !this.taken.has(f));
    if (ready) {
      this.taken.add(ready);
      return Promise.resolve(ready);
    }
    return new Promise((resolve) =>
      this.waiters.push((f) => {
        this.taken.add(f);
        resolve(f);
      }),
    );
  }

  private readonly taken = new Set<ReceivedFit>();

  /** Uploads `delta` (or `payload`) for a task, signed by `signer` (this client's key unless forging) over `signedFor`. */
  async upload(
    meta: StreamMetaOf<'fit'>,
    delta: Weights,
    options: {
      numExamples?: number;
      signer?: Identity;
      signedFor?: { round?: number; taskId?: string; client?: string };
      /** Sent instead of the encoded delta (a compressed or a hand-broken payload), with this header flag. */
      payload?: Uint8Array;
      compression?: 'int8' | 'topk';
    } = {},
  ): Promise<void> {
    const numExamples = options.numExamples ?? 10;
    const bytes = options.payload ?? encodeWeights(delta);
    const metrics = { loss: 0.5 };
    const header = { kind: 'fit-result' as const, round: meta.round, taskId: meta.taskId, numExamples, metrics, ...(options.compression ? { compression: options.compression } : {}) };
    await this.peer.sendStream(header, bytes.length, [bytes], {
      sign: (sha256) =>
        encodeBase64(
          sign(
            uploadTranscript({
              runId: this.runId,
              round: options.signedFor?.round ?? meta.round,
              taskId: options.signedFor?.taskId ?? meta.taskId,
              client: options.signedFor?.client ?? this.name,
              kind: 'fit-result',
              claims: canonicalClaims({ numExamples, ...metrics }),
              payloadHash: sha256,
            }),
            (options.signer ?? this.identity).secretKey,
          ),
        ),
    });
  }

  close(): void {
    this.socket.disconnect();
  }
}
