import type { Socket } from 'socket.io-client';
import { canonicalClaims, uploadTranscript } from '../../src/crypto/handshake.js';
import { sign, type Identity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import type { StreamMetaOf } from '../../src/protocol/messages.js';
import { Peer } from '../../src/protocol/peer.js';
import type { SocketLike } from '../../src/protocol/socketLike.js';
import { decodeWeights } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { rawHandshake, rawHello } from './rawHandshake.js';
import { connectRawSocket } from './socketPair.js';
import { HeldPayload } from './heldPayload.js';

/** A task the coordinator streamed to this client, with the global weights that came with it. */
export type HeldTask =
  | { readonly kind: 'fit'; readonly meta: StreamMetaOf<'fit'>; readonly weights: Weights }
  | { readonly kind: 'evaluate'; readonly meta: StreamMetaOf<'evaluate'>; readonly weights: Weights };

/**
 * An authenticated client that receives real fit and evaluate tasks and hands them to the test, which
 * answers them however it likes on the raw socket (well-formed, forged or malformed). Unlike
 * ScriptedClient it also surfaces evaluate tasks and the end of the run.
 */
export class TaskHolder {
  private readonly queue: (HeldTask | 'run-end')[] = [];
  private waiter: ((next: HeldTask | 'run-end') => void) | undefined;

  private constructor(
    readonly socket: Socket,
    readonly name: string,
    readonly identity: Identity,
    readonly runId: string,
  ) {}

  /** Connects and authenticates as `name`, announcing `numTrainExamples` (also used as the test count). */
  static async connect(url: string, name: string, identity: Identity, numTrainExamples = 10): Promise<TaskHolder> {
    const socket = await connectRawSocket(url);
    const capabilities = { backend: 'js', numTrainExamples, numTestExamples: numTrainExamples, cohortVersion: '0.1.0' };
    const { ack, runId } = await rawHandshake(socket, rawHello(name, { capabilities }, identity));
    if (!ack.ok) throw new Error(`handshake refused: ${ack.error}`);
    const holder = new TaskHolder(socket, name, identity, runId);
    const peer = new Peer(socket as unknown as SocketLike);
    peer.onMessage((m) => {
      if (m.type === 'run-end') holder.push('run-end');
    });
    const held = new HeldPayload();
    peer.onStream((meta) => {
      const parts: Uint8Array[] = [];
      return {
        write: (chunk) => void parts.push(Uint8Array.from(chunk)),
        end: (trailer) => {
          const bytes = held.payload(meta, parts, trailer.sha256);
          const weights = decodeWeights(bytes);
          if (meta.kind === 'fit') holder.push({ kind: 'fit', meta, weights });
          else if (meta.kind === 'evaluate') holder.push({ kind: 'evaluate', meta, weights });
        },
        abort: () => undefined,
      };
    });
    return holder;
  }

  /** The next task, or 'run-end' once the coordinator has finished the run. */
  next(): Promise<HeldTask | 'run-end'> {
    const ready = this.queue.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /**
   * The signature an honest client would attach to an upload or result (see crypto/handshake.ts); `signer`
   * and `client` default to this client, and are overridden to forge.
   */
  signUpload(round: number, taskId: string, kind: string, claims: Readonly<Record<string, number>>, payloadHash: string, signer = this.identity, client = this.name): string {
    const transcript = uploadTranscript({ runId: this.runId, round, taskId, client, kind, claims: canonicalClaims(claims), payloadHash });
    return encodeBase64(sign(transcript, signer.secretKey));
  }

  close(): void {
    this.socket.disconnect();
  }

  private push(next: HeldTask | 'run-end'): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(next);
    else this.queue.push(next);
  }
}
