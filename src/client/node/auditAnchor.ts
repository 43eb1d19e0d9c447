import { countersignAuditHead, verifyCoordinatorHead } from '../../crypto/auditAnchor.js';
import type { Identity } from '../../crypto/identity.js';
import type { Message, MessageOf } from '../../protocol/messages.js';

export interface AuditAnchorParts {
  readonly identity: Identity;
  /** This node's own audit log: every head it countersigns is kept there. */
  readonly audit: { append(type: string, data: Readonly<Record<string, unknown>>): void };
  readonly send: (message: Message) => Promise<void>;
}

/**
 * The client's half of audit anchoring (crypto/auditAnchor.ts): checks that a head shown after a round is
 * signed by the coordinator key this connection authenticated and moves forward, keeps it in the node's own
 * log, and countersigns it. A head that moves backwards or changes a seq already anchored is refused (and
 * logged): that is the coordinator rewriting its history.
 */
export class AuditAnchor {
  private run: { readonly id: string; readonly coordinatorKey: Uint8Array } | undefined;
  /** The last head anchored per run (seq and hash), across reconnects. */
  private readonly last = new Map<string, { seq: number; hash: string }>();

  constructor(private readonly parts: AuditAnchorParts) {}

  authenticated(runId: string, coordinatorKey: Uint8Array): void {
    this.run = { id: runId, coordinatorKey };
  }

  /** Throws (the coordinator is told why, and it is logged here) for a head this node will not countersign. */
  async handle(message: MessageOf<'audit-head'>): Promise<void> {
    const run = this.run;
    if (!run) throw new Error('an audit head before the handshake');
    const { round, seq, hash, signature } = message;
    const problem = this.problem(run, message);
    if (problem) {
      this.parts.audit.append('audit-head-refused', { run: run.id, round, seq, hash, reason: problem });
      throw new Error(problem);
    }
    const countersignature = countersignAuditHead({ runId: run.id, round, seq, hash }, this.parts.identity.secretKey);
    this.last.set(run.id, { seq, hash });
    this.parts.audit.append('audit-head', { run: run.id, round, seq, hash, coordinatorSignature: signature, countersignature });
    await this.parts.send({ type: 'audit-countersign', round, seq, hash, signature: countersignature });
  }

  private problem(run: { id: string; coordinatorKey: Uint8Array }, message: MessageOf<'audit-head'>): string | undefined {
    if (!verifyCoordinatorHead(message.hash, message.signature, run.coordinatorKey)) {
      return `the audit head for round ${message.round} is not signed by the coordinator's key`;
    }
    const last = this.last.get(run.id);
    if (last && (message.seq < last.seq || (message.seq === last.seq && message.hash !== last.hash))) {
      return `the audit head for round ${message.round} (seq ${message.seq}) does not extend the head anchored before (seq ${last.seq}, hash ${last.hash.slice(0, 12)}...): the coordinator's log was rewritten`;
    }
    return undefined;
  }
}
