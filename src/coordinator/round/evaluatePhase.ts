import { createSeededRng, mixSeed } from '../../protocol/seededRng.js';
import { collectTasks } from '../collectTasks.js';
import type { RoundRecord } from '../roundRecord.js';
import { outcomesOf } from './fitPhase.js';
import type { RunContext } from './runContext.js';

/**
 * Federated evaluation of the round's global state on the clients' held-out data (except those named in
 * `skip`, by name), and central evaluation where the mode lets the coordinator see a model. Clients that
 * have not answered within `deadlineMs` are recorded as failures.
 */
export async function runEvaluatePhase(run: RunContext, round: number, skip: ReadonlySet<string> = new Set(), deadlineMs = run.roundTimeoutMs): Promise<Pick<RoundRecord, 'evaluate' | 'central'>> {
  const { strategy, seed } = run.options;
  const started = performance.now();
  const candidates = (await run.eligible()).filter((c) => !skip.has(c.name));
  const tasks = strategy.configureEvaluate(round, candidates, createSeededRng(mixSeed(seed ?? 0, round, 2)));
  let evaluate: RoundRecord['evaluate'];
  if (tasks.length > 0) {
    const payload = run.mode.evaluationPayload();
    const ev = await collectTasks(tasks, run.registry, (session, task, taskId) => session.evaluate(round, taskId, task.batchSize, payload), deadlineMs, 'evaluate');
    if (ev.reports.length < strategy.minEvaluateClients) {
      run.log.warn({ round }, `round ${round}: ${ev.reports.length} of ${strategy.minEvaluateClients} evaluations arrived; federated metrics skipped`);
    }
    const summary = ev.reports.length >= strategy.minEvaluateClients ? strategy.aggregateEvaluate(round, ev.reports, ev.failures) : { loss: undefined, metrics: {} };
    evaluate = { ...summary, outcomes: outcomesOf(ev.reports, ev.failures), durationMs: performance.now() - started };
  }
  const model = run.mode.centralModel();
  const central = strategy.evaluate && model ? await strategy.evaluate(round, model) : undefined;
  return { ...(evaluate ? { evaluate } : {}), ...(central ? { central } : {}) };
}
