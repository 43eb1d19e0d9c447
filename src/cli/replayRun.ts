import { EventEmitter } from 'node:events';
import type { CoordinatorEventMap } from '../coordinator/coordinatorEvents.js';
import type { RoundRecord } from '../coordinator/roundRecord.js';
import type { PrivacyBudget } from '../coordinator/observability/dashboardModel.js';
import { RunObserver } from '../coordinator/observability/runObserver.js';
import { StoreError, type RunRow, type RunStore } from '../coordinator/store/runStore.js';
import { experimentConfigSchema } from './config/experimentConfig.js';
import { privacyOptions } from './privacyOptions.js';

/**
 * A stored run as the live dashboard showed it: the store's clients and rounds are replayed, in order and at their
 * recorded times, through the same RunObserver that follows a live coordinator, so the page, the JSON API and the
 * fairness figures are computed by the same code. Reads only; the store can be closed afterwards.
 */
export function replayStoredRun(store: RunStore, run: RunRow): RunObserver {
  const records = store.rounds(run.id);
  const clients = store.clients(run.id);
  const budget = privacyBudget(store.manifest(run.id));
  let clock = new Date(run.createdAt);
  const events = Object.assign(new EventEmitter<CoordinatorEventMap>(), { runId: run.id });
  const title = run.status === 'completed' ? run.name : `${run.name} (${run.status === 'failed' ? 'failed' : 'unfinished'} after ${run.lastRound} of ${run.roundsPlanned} rounds)`;
  const observer = new RunObserver(events, { title, rounds: run.roundsPlanned, privacy: () => budget.now, now: () => clock });
  for (const c of clients) {
    clock = new Date(c.firstSeen);
    // Stored clients have no session: the name stands in for the id the live table keys reconnects by.
    events.emit('client-joined', { id: c.client, name: c.client, backend: c.backend, numTrainExamples: c.trainRows, numTestExamples: c.testRows });
  }
  for (const r of records) {
    clock = new Date(r.completedAt);
    events.emit('round-started', { round: r.round, attempt: r.attempts, selected: r.record.fit.outcomes.map((o) => o.client) });
    budget.observe(r.record);
    events.emit('round-completed', r.record);
  }
  clock = new Date(run.updatedAt);
  if (run.error) events.emit('round-failed', { round: run.lastRound + 1, attempt: 1, message: run.error });
  if (run.status !== 'completed') {
    // The table must not say `the run ended` of a run that stopped short.
    const why = run.status === 'failed' ? `the run failed${run.error ? `: ${run.error}` : ''}` : 'the run did not finish (its coordinator stopped)';
    for (const c of clients) events.emit('client-left', { id: c.client, name: c.client, backend: c.backend, numTrainExamples: c.trainRows, numTestExamples: c.testRows }, why);
  }
  events.emit('run-completed', { runId: run.id, rounds: run.status === 'completed' ? run.lastRound : run.roundsPlanned });
  observer.detach();
  return observer;
}

/** The dashboard's privacy card, from the run's stored configuration and the epsilon its rounds recorded. */
function privacyBudget(manifest: unknown): { now: PrivacyBudget; observe(record: RoundRecord): void } {
  const config = experimentConfigSchema.safeParse((manifest as { config?: unknown } | undefined)?.config);
  if (!config.success || !config.data.privacy) return { now: { configured: false }, observe: () => undefined };
  const dp = privacyOptions(config.data);
  const state = {
    now: dp.budget(),
    observe(record: RoundRecord) {
      dp.observe(record);
      state.now = dp.budget();
    },
  };
  return state;
}

/** The run `id` names (a unique prefix is enough), or with `latest` the store's most recent run. */
export function findStoredRun(store: RunStore, selector: { id?: string; latest?: boolean }): RunRow {
  const runs = store.runs();
  if (runs.length === 0) throw new StoreError(`${store.path} holds no runs`);
  if (selector.latest) return runs[runs.length - 1]!;
  if (!selector.id) throw new StoreError('name the run to show (`cohort runs` lists them) or pass --latest');
  const run = store.run(selector.id);
  if (!run) throw new StoreError(`no run "${selector.id}" in ${store.path} (see \`cohort runs\`)`);
  return run;
}
