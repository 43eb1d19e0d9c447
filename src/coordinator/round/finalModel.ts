import { randomUUID } from 'node:crypto';
import { settleWithin } from '../deadline.js';
import type { RunContext } from './runContext.js';

/**
 * Once the rounds are over, every connected client that can read the mode's global state is sent the last one
 * (after `round`), to keep as its final model, and this waits until each has kept it or the round deadline
 * passed. Without it a run that evaluates nothing in its last round (fractionEvaluate: 0) leaves each client the
 * global it last trained from, one round stale. A client that evaluated the last global holds it already: it is
 * sent the header naming it, not the bytes again. A client that misses it is logged; the run is over either way.
 */
export async function sendFinalModel(run: RunContext, round: number): Promise<void> {
  const sessions = run.registry.all().filter((s) => s.open && s.role === 'client' && run.mode.ready(s));
  if (sessions.length === 0) return;
  const payload = run.mode.evaluationPayload();
  // A client that does not hold the evaluation payload, where that carries more than the model, gets the model alone.
  const modelAlone = run.mode.modelPayload?.();
  const settled = await settleWithin(
    sessions.map((s) => s.final(round, randomUUID(), payload, modelAlone)),
    run.roundTimeoutMs,
  );
  const kept: string[] = [];
  const missed: { client: string; reason: string }[] = [];
  settled.forEach((result, i) => {
    const client = sessions[i]!.summary.name;
    if (result?.status === 'fulfilled') kept.push(client);
    else missed.push({ client, reason: result ? (result.reason as Error).message : `not kept within the deadline of ${Math.round(run.roundTimeoutMs / 1000)} s` });
  });
  if (missed.length > 0) run.log.warn({ round, missed }, 'some clients did not keep the final model');
  run.audit.append('final-model-sent', { round, model: payload.sha256, kept, missed });
}
