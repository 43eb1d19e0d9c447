import type { Logger } from 'pino';
import type { StreamMeta, StreamMetaOf } from '../protocol/messages.js';
import { TransferError, type Peer } from '../protocol/peer.js';
import { streamOf, type EncodedWeights } from './encodedWeights.js';
import { payloadSample, samplesEqual } from './payloadSample.js';

/** The payload a client holds: its SHA-256, and a sample of its bytes that rules out most other payloads unhashed. */
export interface HeldPayload {
  readonly sha256: string;
  readonly totalBytes: number;
  readonly sample: Uint8Array;
}

/**
 * The last payload each client acknowledged, by client name, kept across its connections: a node that reconnects
 * (a network blip) still holds what it received, so its next task names the payload instead of sending it again.
 * One entry per allowlisted name at most.
 */
export type HeldPayloads = Map<string, HeldPayload>;

/**
 * Streams a client its tasks' payloads so that no payload travels twice: it knows the payload the client holds
 * (the last one the client acknowledged, on this connection or an earlier one), and for a task whose payload is
 * that one (the global it evaluated is the one it now trains from, or keeps at the run's end) sends the header
 * alone, naming the payload by SHA-256. A client that says it does not hold it (code `payload-not-held`: an
 * acknowledgement lost, a node restarted) is sent the same task again with the bytes. Nothing here is trusted by
 * the client: it checks what it reuses against the hash it computed over the bytes it received.
 */
export class PayloadSender {
  constructor(
    private readonly peer: Peer,
    /** The coordinator's signature over a download for this client (header and payload hash). */
    private readonly signDownload: (meta: StreamMeta, sha256: string) => string,
    private readonly log: Logger,
    private readonly client: string,
    /** Shared by the client's sessions (the server's), or this sender's own. */
    private readonly heldPayloads: HeldPayloads = new Map(),
  ) {}

  /**
   * Resolves once the client accepted the task (the stream's end acknowledged). A client that does not hold
   * `weights` is sent `otherwise` when given (the final model alone instead of SCAFFOLD's [x; c]).
   */
  async send(task: StreamMetaOf<'fit' | 'evaluate' | 'final'>, weights: EncodedWeights, otherwise?: EncodedWeights): Promise<void> {
    const metaOf = (payload: EncodedWeights) => (payload.layout ? { ...task, layout: payload.layout } : task);
    const sign = (header: StreamMeta) => (sha256: string) => this.signDownload(header, sha256);
    if (this.holds(weights)) {
      const header = { ...metaOf(weights), reuses: weights.sha256 };
      try {
        await this.peer.sendStream(header, 0, [], { sign: sign(header) });
        return;
      } catch (e) {
        if (!(e instanceof TransferError && e.code === 'payload-not-held')) throw e;
        this.heldPayloads.delete(this.client);
        this.log.info({ client: this.client, kind: task.kind, round: task.round }, 'the client does not hold the payload it was asked to reuse; sending the bytes');
      }
    }
    const bytes = otherwise ?? weights;
    const meta = metaOf(bytes);
    const { chunks, sha256 } = streamOf(bytes);
    await this.peer.sendStream(meta, bytes.totalBytes, chunks, { sha256, sign: sign(meta) });
    this.heldPayloads.set(this.client, { sha256: bytes.sha256, totalBytes: bytes.totalBytes, sample: payloadSample(bytes.chunks) });
  }

  /**
   * Whether the client holds these bytes: same SHA-256. A new global differs from the held one in its size or in
   * the sampled bytes, which says so without hashing it first (its bytes then leave at once, hashed as they go);
   * only a payload that matches both is hashed before its header goes.
   */
  private holds(weights: EncodedWeights): boolean {
    const held = this.heldPayloads.get(this.client);
    if (held === undefined || held.totalBytes !== weights.totalBytes) return false;
    if (!samplesEqual(held.sample, payloadSample(weights.chunks))) return false;
    return held.sha256 === weights.sha256;
  }
}
