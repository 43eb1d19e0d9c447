import type { StreamMeta } from '../../src/protocol/messages.js';

/**
 * What a raw test client keeps of its downloads: the last payload received whole, which a later task may name
 * (`reuses`) instead of sending it again, as the coordinator does for a client that already holds it.
 */
export class HeldPayload {
  private held: { readonly sha256: string; readonly bytes: Buffer } | undefined;

  /** The bytes a task stands for: the ones just received, or the held ones it names. */
  payload(meta: StreamMeta, received: readonly Uint8Array[], sha256: string): Buffer {
    const reuses = meta.kind === 'fit' || meta.kind === 'evaluate' || meta.kind === 'final' ? meta.reuses : undefined;
    if (reuses === undefined) {
      this.held = { sha256, bytes: Buffer.concat(received) };
      return this.held.bytes;
    }
    if (this.held?.sha256 !== reuses) throw new Error('asked to reuse a payload this client does not hold');
    return this.held.bytes;
  }
}
