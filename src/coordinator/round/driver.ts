import type { PrivacyLedger } from '../privacyLedger.js';
import type { RoundRecord } from '../roundRecord.js';
import { runEvaluatePhase } from './evaluatePhase.js';
import { runFitPhase } from './fitPhase.js';
import { anchorRound } from './anchorRound.js';
import { recordRound } from './recordRound.js';
import type { RunContext } from './runContext.js';

/**
 * The round driver: for each remaining round, a fit phase (cohort, broadcast, sum, the strategy's step), an
 * evaluate phase, and the round kept (store, checkpoint, audit) before anyone is told it completed. What the
 * global state is and how uploads are protected is the mode's business; this loop names none.
 */
export async function driveRounds(run: RunContext, firstRound: number, ledger: PrivacyLedger | undefined): Promise<{ history: RoundRecord[]; stoppedEarly?: string }> {
  const history: RoundRecord[] = [];
  for (let round = firstRound; round <= run.options.rounds; round++) {
    const started = performance.now();
    const fit = await runFitPhase(run, round, ledger);
    if (fit.kind === 'stopped') return { history, stoppedEarly: fit.message };
    // A client whose fit ran out of time (past the deadline, or its upload stalled) is not asked to evaluate
    // this round: waiting on it again would stretch the round to twice its deadline.
    const outOfTime = new Set(fit.fit.outcomes.filter((o) => o.failure?.reason === 'timeout').map((o) => o.client));
    // The round's deadline bounds both phases: evaluation gets what the fit phase left of it, and at least a
    // tenth of it (an evaluation is one pass over held-out data), so a round lasts at most 1.1 deadlines.
    const left = run.roundTimeoutMs - (performance.now() - started);
    const evaluation = await runEvaluatePhase(run, round, outOfTime, Math.max(left, run.roundTimeoutMs / 10));
    const record: RoundRecord = {
      round,
      attempts: fit.attempts,
      fit: fit.fit,
      ...evaluation,
      ...(fit.privacy ? { privacy: fit.privacy } : {}),
      durationMs: performance.now() - started,
    };
    history.push(record);
    recordRound(run, record, ledger);
    // Read at once: the round-completed entry is the chain's head until anything else is logged.
    const head = run.auditing ? run.audit.head?.() : undefined;
    run.log.info({ round, durationMs: record.durationMs, loss: record.evaluate?.loss }, 'round completed');
    run.options.onRound?.(record);
    run.report('round-completed', record);
    if (head) await anchorRound(run, round, head, fit.fit.outcomes.filter((o) => !o.failure).map((o) => o.client));
  }
  return { history };
}
