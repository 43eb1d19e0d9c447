import { verifyAuditHeadCountersignature } from '../../crypto/auditAnchor.js';
import type { AuditChainHead } from '../auditTrail.js';
import type { RunContext } from './runContext.js';

/** How long a participant has to countersign a head: it is idle between rounds, so one round trip. */
const COUNTERSIGN_TIMEOUT_MS = 5_000;

/**
 * Shows the round's audit chain head (the `round-completed` entry just written) to the clients that took part
 * and logs each one's countersignature (crypto/auditAnchor.ts). A client that does not countersign is logged
 * as such and stays in the run: anchoring protects the log, it is no vote on the round.
 */
export async function anchorRound(run: RunContext, round: number, head: AuditChainHead, participants: readonly string[]): Promise<void> {
  const timeoutMs = Math.min(run.roundTimeoutMs, COUNTERSIGN_TIMEOUT_MS);
  const anchored = { runId: run.runId, round, seq: head.seq, hash: head.hash };
  await Promise.all(
    participants.map(async (client) => {
      const session = run.registry.byName(client);
      try {
        if (!session?.open) throw new Error('disconnected before the head was shown');
        const reply = await session.request({ type: 'audit-head', round, seq: head.seq, hash: head.hash, signature: head.signature }, 'audit-countersign', timeoutMs);
        if (reply.round !== round || reply.seq !== head.seq || reply.hash !== head.hash) {
          throw new Error(`countersigned another head (round ${reply.round}, seq ${reply.seq}, hash ${reply.hash.slice(0, 12)}...)`);
        }
        if (!verifyAuditHeadCountersignature(anchored, reply.signature, session.publicKey)) throw new Error(`the countersignature does not verify under ${client}'s key`);
        run.audit.append('audit-head-countersigned', { round, client, seq: head.seq, hash: head.hash, signature: reply.signature });
      } catch (e) {
        const reason = (e as Error).message;
        run.log.warn({ round, client, reason }, 'audit head not countersigned');
        run.audit.append('audit-head-unsigned', { round, client, seq: head.seq, reason });
      }
    }),
  );
}
