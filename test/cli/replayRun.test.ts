import { afterEach, describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { findStoredRun, replayStoredRun } from '../../src/cli/replayRun.js';
import type { RoundRecord } from '../../src/coordinator/roundRecord.js';
import { RunStore, StoreError } from '../../src/coordinator/store/runStore.js';

// The store side of `cohort dashboard` (the browser side is test/integration/dashboardAfterRun.test.ts): runs that
// stopped short, and the privacy card rebuilt from the stored configuration and rounds.
const dpConfig = experimentConfigSchema.parse({
  name: 'dp-study',
  rounds: 3,
  standardization: 'none',
  model: { type: 'mlp', hidden: [4], outputs: 1, inputs: 2 },
  privacy: { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5, targetEpsilon: 8 },
});
const weights = [{ name: 'w', shape: [2], data: new Float32Array(2) }];
const client = (name: string) => ({ id: `session-${name}`, name, backend: 'cpu', numTrainExamples: 40, numTestExamples: 10 });

function record(round: number, epsilon: number): RoundRecord {
  const outcome = (c: string, accuracy: number) => ({ client: c, numExamples: 10, loss: 1 - accuracy, metrics: { accuracy } });
  return {
    round,
    attempts: 1,
    fit: { selected: 2, outcomes: [{ client: 'a', numExamples: 40 }, { client: 'b', numExamples: 40 }], metrics: {}, durationMs: 100 },
    evaluate: { loss: 0.5, metrics: { accuracy: 0.5 + round / 10 }, outcomes: [outcome('a', 0.6), outcome('b', 0.3 + round / 10)], durationMs: 20 },
    privacy: { epsilon, delta: 1e-5, noiseMultiplier: 1.1, sampleRate: 1 },
    durationMs: 150,
  };
}

let store: RunStore;
afterEach(() => store.close());

function storedRun(id: string, rounds: number): void {
  store.createRun({ id, name: 'dp-study', configHash: 'h', manifest: { config: dpConfig }, roundsPlanned: 3 });
  store.recordClient(id, client('a'));
  store.recordClient(id, client('b'));
  for (let r = 1; r <= rounds; r++) store.completeRound(id, record(r, 0.7 * r), weights, undefined);
}

describe('a stored run replayed for the dashboard', () => {
  it('shows an interrupted run as far as it got, its title and client table saying it did not finish', () => {
    store = new RunStore(':memory:');
    storedRun('run-unfinished', 2);
    const snapshot = replayStoredRun(store, findStoredRun(store, { id: 'run-unf' })).snapshot();
    expect(snapshot.title).toBe('dp-study (unfinished after 2 of 3 rounds)');
    expect(snapshot.status).toMatchObject({ phase: 'completed', round: 2, attempt: 1, selected: [] });
    expect(snapshot.rounds.map((r) => [r.round, r.accuracy])).toEqual([[1, 0.6], [2, 0.7]]);
    expect(snapshot.clients.map((c) => [c.name, c.status, c.leftReason, c.lastRound])).toEqual([
      ['a', 'left', 'the run did not finish (its coordinator stopped)', 2],
      ['b', 'left', 'the run did not finish (its coordinator stopped)', 2],
    ]);
    // The privacy card: the epsilon the last stored round spent, against the stored configuration's budget.
    expect(snapshot.privacy).toMatchObject({ configured: true, epsilon: 1.4, delta: 1e-5, targetEpsilon: 8 });
    expect(snapshot.rounds.map((r) => r.epsilon)).toEqual([0.7, 1.4]);
    expect(snapshot.fairness.latest?.accuracy?.worst).toEqual({ client: 'b', value: 0.5 });
  });

  it('names why a failed run failed, and --latest picks the newest run', () => {
    store = new RunStore(':memory:');
    storedRun('run-old', 3);
    store.setStatus('run-old', 'completed');
    storedRun('run-failed', 1);
    store.setStatus('run-failed', 'failed', 'round 2: 1 of 2 fit results arrived');
    const run = findStoredRun(store, { latest: true });
    expect(run.id).toBe('run-failed');
    const snapshot = replayStoredRun(store, run).snapshot();
    expect(snapshot.title).toBe('dp-study (failed after 1 of 3 rounds)');
    expect(snapshot.status).toMatchObject({ phase: 'completed', lastFailure: 'round 2: 1 of 2 fit results arrived' });
    expect(snapshot.clients[0]!.leftReason).toBe('the run failed: round 2: 1 of 2 fit results arrived');
    // The completed one is titled plainly and its clients left because the run ended.
    const completed = replayStoredRun(store, findStoredRun(store, { id: 'run-old' })).snapshot();
    expect(completed.title).toBe('dp-study');
    expect(completed.clients.map((c) => c.leftReason)).toEqual(['the run ended', 'the run ended']);
  });

  it('says what to give when the run cannot be found', () => {
    store = new RunStore(':memory:');
    expect(() => findStoredRun(store, { latest: true })).toThrow(new StoreError(':memory: holds no runs'));
    storedRun('run-1', 1);
    storedRun('run-2', 1);
    expect(() => findStoredRun(store, {})).toThrow('name the run to show (`cohort runs` lists them) or pass --latest');
    expect(() => findStoredRun(store, { id: 'run-' })).toThrow(/run id prefix "run-" is ambiguous/);
    expect(() => findStoredRun(store, { id: 'nope' })).toThrow('no run "nope" in :memory: (see `cohort runs`)');
  });
});
