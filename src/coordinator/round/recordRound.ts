import type { PrivacyLedger } from '../privacyLedger.js';
import type { RoundRecord } from '../roundRecord.js';
import type { RunContext } from './runContext.js';

/** Keeps a completed round: the store's record and checkpoint (with the privacy ledger), then the audit entry. */
export function recordRound(run: RunContext, record: RoundRecord, ledger: PrivacyLedger | undefined): void {
  const { store, strategy } = run.options;
  const saved = { strategy: strategy.state?.(), ...(ledger ? { privacy: ledger.state } : {}) };
  const modelSha256 = store ? run.mode.checkpoint(store, record, saved) : run.auditing ? run.mode.stateHash() : undefined;
  if (store && record.privacy) store.recordPrivacy(run.runId, record.round, record.privacy.epsilon, record.privacy.delta);
  if (!run.auditing) return;
  run.audit.append('round-completed', {
    round: record.round,
    attempts: record.attempts,
    participants: record.fit.outcomes.filter((o) => !o.failure).map((o) => o.client),
    dropped: record.fit.outcomes.filter((o) => o.failure).map((o) => ({ client: o.client, reason: o.failure!.reason })),
    model: modelSha256,
  });
}
