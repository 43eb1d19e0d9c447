import { verifyDownload } from '../../crypto/downloadSignature.js';
import type { ModeHeader, StreamMeta, StreamMetaOf } from '../../protocol/messages.js';
import type { StreamTrailer } from '../../protocol/peer.js';
import type { SecureModeName } from '../../modes/mode.js';
import type { ResolvedSecurityPolicy } from '../security/securityPolicy.js';
import { evaluateTaskRefusal, fitTaskRefusal, fitTaskTerms, type LocalNoise } from '../security/taskGate.js';

/** Where the guard reports a refusal: the node's audit log, its events and its log. */
export type RefusalReporter = (kind: string, round: number, taskId: string, reason: string) => void;

/**
 * What a node checks of every download before it uses it: a task its policy allows, never a replayed task id
 * (checked when the header arrives), and the coordinator's signature over header and bytes (when the bytes are
 * in). Tied to the run and coordinator key the handshake proved.
 */
export class DownloadGuard {
  private run: { readonly id: string; readonly coordinatorKey: Uint8Array } | undefined;
  private readonly seen = new Set<string>();
  private seenRun: string | undefined;

  constructor(
    private readonly client: string,
    private readonly policy: ResolvedSecurityPolicy,
    private readonly localNoise: LocalNoise | undefined,
    private readonly report: RefusalReporter,
    /** The secure mode a download's header belongs to (the mode that reads it). */
    private readonly modeOf: (header: ModeHeader) => SecureModeName,
  ) {}

  /** The handshake proved `coordinatorKey` for `runId`; task ids are remembered per run. */
  authenticated(runId: string, coordinatorKey: Uint8Array): void {
    if (this.seenRun !== runId) this.seen.clear();
    this.seenRun = runId;
    this.run = { id: runId, coordinatorKey };
  }

  disconnected(): void {
    this.run = undefined;
  }

  /** Throws (the refusal, audited) for a task this node does not take. */
  screen(meta: StreamMetaOf<'fit' | 'evaluate' | 'final' | 'standardize'>): void {
    const round = meta.kind === 'standardize' ? 0 : meta.round;
    const refusal = this.seen.has(meta.taskId)
      ? `task ${meta.taskId} was already received in this run (a replay)`
      : meta.kind === 'fit'
        ? fitTaskRefusal(this.policy, fitTaskTerms(meta.config.extra), this.localNoise)
        : meta.kind === 'evaluate' || meta.kind === 'final'
          ? // The final model is kept, as an evaluated global is used: the same terms for the mode it travels in.
            evaluateTaskRefusal(this.policy, this.modeOf(meta), meta.kind === 'final' ? 'final model' : 'evaluate task')
          : undefined;
    if (refusal) {
      this.report(meta.kind, round, meta.taskId, refusal);
      throw new Error(refusal);
    }
    this.seen.add(meta.taskId);
  }

  /** Throws unless the coordinator signed exactly this header and these bytes for this client and run. */
  check(meta: StreamMeta, trailer: StreamTrailer): void {
    const run = this.run;
    if (!run) throw new Error('a task arrived before the handshake completed');
    if (!verifyDownload({ runId: run.id, client: this.client, meta, payloadHash: trailer.sha256 }, trailer.signature, run.coordinatorKey)) {
      const reason = `the ${meta.kind} download is not signed by the coordinator's key for this client and run`;
      this.report(`${meta.kind} (download)`, 'round' in meta ? meta.round : 0, meta.taskId, reason);
      throw new Error(reason);
    }
  }
}
