import type { Logger } from 'pino';
import type { StreamMeta, StreamMetaOf } from '../protocol/messages.js';
import { TransferError, type Peer } from '../protocol/peer.js';
import type { EncodedWeights } from './encodeGlobal.js';

/**
 * Streams a client its tasks' payloads so that no payload travels twice: it knows the payload the client holds
 * (the last one the client acknowledged on this connection), and for a task whose payload is that one (the
 * global it evaluated is the one it now trains from, or keeps at the run's end) sends the header alone, naming
 * the payload by SHA-256. A client that says it does not hold it (code `payload-not-held`: an acknowledgement
 * lost, a node restarted) is sent the same task again with the bytes. Nothing here is trusted by the client: it
 * checks what it reuses against the hash it computed over the bytes it received.
 */
export class PayloadSender {
  /** SHA-256 of the last payload this client acknowledged on this connection: the one it holds. */
  private held: string | undefined;

  constructor(
    private readonly peer: Peer,
    /** The coordinator's signature over a download for this client (header and payload hash). */
    private readonly signDownload: (meta: StreamMeta, sha256: string) => string,
    private readonly log: Logger,
    private readonly client: string,
  ) {}

  /** Resolves once the client accepted the task (the stream's end acknowledged). */
  async send(meta: StreamMetaOf<'fit' | 'evaluate' | 'final'>, weights: EncodedWeights): Promise<void> {
    const sign = (header: StreamMeta) => (sha256: string) => this.signDownload(header, sha256);
    if (this.held === weights.sha256) {
      const header = { ...meta, reuses: weights.sha256 };
      try {
        await this.peer.sendStream(header, 0, [], { sign: sign(header) });
        return;
      } catch (e) {
        if (!(e instanceof TransferError && e.code === 'payload-not-held')) throw e;
        this.held = undefined;
        this.log.info({ client: this.client, kind: meta.kind, round: meta.round }, 'the client does not hold the payload it was asked to reuse; sending the bytes');
      }
    }
    await this.peer.sendStream(meta, weights.totalBytes, weights.chunks, { sha256: weights.sha256, sign: sign(meta) });
    this.held = weights.sha256;
  }
}
