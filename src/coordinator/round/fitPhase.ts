import { createSeededRng, mixSeed } from '../../protocol/seededRng.js';
import { RunError } from '../coordinatorOptions.js';
import type { PrivacyLedger } from '../privacyLedger.js';
import type { ClientOutcome, RoundRecord } from '../roundRecord.js';
import type { EvaluateReport, FitReport, TaskFailure } from '../strategy.js';
import type { RunContext } from './runContext.js';

export function outcomesOf(reports: readonly (FitReport | EvaluateReport)[], failures: readonly TaskFailure[]): ClientOutcome[] {
  return [
    ...reports.map((r) => ({ client: r.client.name, numExamples: r.numExamples, metrics: r.metrics, ...('loss' in r ? { loss: r.loss } : {}) })),
    ...failures.map((f) => ({ client: f.client.name, failure: { reason: f.reason, detail: f.detail } })),
  ];
}

/** A fit phase's result: the round's fit record, or the privacy budget's refusal to run it. */
export type FitPhaseResult =
  | { readonly kind: 'completed'; readonly fit: RoundRecord['fit']; readonly attempts: number; readonly privacy?: RoundRecord['privacy'] }
  | { readonly kind: 'stopped'; readonly message: string };

/**
 * The fit phase of `round`: the strategy picks the cohort, the mode streams the global state and sums what
 * arrives; below minFitClients the attempt is logged and retried (maxRoundRetries), then the run fails with
 * every client's failure named. The ledger refuses a round that would pass the privacy budget.
 */
export async function runFitPhase(run: RunContext, round: number, ledger: PrivacyLedger | undefined): Promise<FitPhaseResult> {
  const { options, mode, registry } = run;
  const { strategy } = options;
  const maxRetries = options.maxRoundRetries ?? 2;
  for (let attempts = 1; ; attempts++) {
    await registry.waitFor(strategy.minAvailableClients, run.waitMs).catch((e: unknown) => {
      throw new RunError(`round ${round}: ${(e as Error).message}`);
    });
    const started = performance.now();
    const candidates = await run.eligible();
    const tasks = strategy.configureFit(round, candidates, createSeededRng(mixSeed(options.seed ?? 0, round, attempts, 1)));
    const sampleRate = candidates.length > 0 ? Math.min(1, tasks.length / candidates.length) : 1;
    const refusal = ledger?.refuse(round, sampleRate, { selected: tasks.length, minimum: strategy.minFitClients });
    if (refusal) {
      run.log.warn({ round }, refusal.message);
      run.audit.append('privacy-budget-reached', { round, epsilon: refusal.epsilon, target: options.privacy?.targetEpsilon ?? null, delta: options.privacy?.delta ?? null });
      return { kind: 'stopped', message: refusal.message };
    }
    run.report('round-started', { round, attempt: attempts, selected: tasks.map((t) => t.client.name) });
    const phase = await mode.fit(round, tasks, registry, run.roundTimeoutMs);
    const outcomes = outcomesOf(phase.reports, phase.failures);
    if (phase.reports.length >= strategy.minFitClients) {
      const aggregationStarted = performance.now();
      const committed = phase.commit();
      const privacy = ledger?.charge(sampleRate, committed.measurements, committed.noiseShares);
      const durationMs = performance.now() - started;
      const aggregationMs = performance.now() - aggregationStarted;
      const trainingMs = Math.max(0, ...phase.reports.map((r) => (r.metrics.trainSeconds ?? 0) * 1000));
      const timing = { trainingMs, aggregationMs, transferMs: Math.max(0, durationMs - trainingMs - aggregationMs) };
      return { kind: 'completed', attempts, fit: { selected: tasks.length, outcomes, metrics: committed.metrics, durationMs, timing }, ...(privacy ? { privacy } : {}) };
    }
    const reasons = phase.failures.map((f) => `${f.client.name}: ${f.reason} (${f.detail})`).join('; ');
    const message = `round ${round} attempt ${attempts} failed: ${phase.reports.length} of the ${strategy.minFitClients} required updates arrived${reasons ? ` [${reasons}]` : ''}`;
    run.log.warn({ round, attempt: attempts, failures: phase.failures.length }, message);
    run.report('round-failed', { round, attempt: attempts, message });
    if (attempts > maxRetries) throw new RunError(`${message}; giving up after ${attempts} attempts`);
  }
}
