import { describe, expect, it } from 'vitest';
import type { DashboardUpdate } from '../../../src/coordinator/observability/dashboardModel.js';
import { RunObserver } from '../../../src/coordinator/observability/runObserver.js';
import { FakeCoordinator, summary } from './fakeCoordinator.js';
import { roundRecord } from './roundRecords.js';

const at = (iso: string) => () => new Date(iso);

describe('RunObserver', () => {
  it('keeps the client table from joins and departures, ignoring the departure of a replaced session', () => {
    const c = new FakeCoordinator();
    const observer = new RunObserver(c, { now: at('2025-01-01T10:00:00Z') });
    c.emit('client-joined', summary('a', 'a-1'));
    c.emit('client-joined', summary('b'));
    c.emit('client-joined', summary('a', 'a-2')); // reconnect: the newer session replaces a-1 first...
    c.emit('client-left', summary('a', 'a-1'), 'replaced'); // ...and then a-1's departure arrives
    c.emit('client-left', summary('b'), 'transport close');
    expect(observer.clients()).toEqual([
      { name: 'a', backend: 'cpu', trainRows: 40, testRows: 10, status: 'connected', joinedAt: '2025-01-01T10:00:00.000Z' },
      { name: 'b', backend: 'cpu', trainRows: 40, testRows: 10, status: 'left', joinedAt: '2025-01-01T10:00:00.000Z', leftAt: '2025-01-01T10:00:00.000Z', leftReason: 'transport close' },
    ]);
  });

  it('turns round records into views with failed attempts, dropped clients and each client\'s last evaluation', () => {
    const c = new FakeCoordinator();
    const observer = new RunObserver(c, { rounds: 3, now: at('2025-01-01T10:00:10Z') });
    const updates: DashboardUpdate[] = [];
    observer.onUpdate((u) => updates.push(u));
    c.emit('client-joined', summary('a'));
    c.emit('client-joined', summary('b'));
    c.emit('round-started', { round: 1, attempt: 1, selected: ['a', 'b'] });
    expect(observer.runStatus).toEqual({ phase: 'training', round: 1, attempt: 1, rounds: 3, selected: ['a', 'b'] });
    c.emit('round-failed', { round: 1, attempt: 1, message: 'round 1 attempt 1 failed: 1 of the 2 required updates arrived' });
    c.emit('round-started', { round: 1, attempt: 2, selected: ['a', 'b'] });
    const record = roundRecord(1, [['a', 0.8, 0.4], ['b', 'failed']], { attempts: 2 });
    c.emit('round-completed', record);

    const [view] = observer.rounds();
    expect(view).toMatchObject({
      round: 1,
      attempts: 2,
      failedAttempts: ['round 1 attempt 1 failed: 1 of the 2 required updates arrived'],
      startedAt: '2025-01-01T10:00:09.600Z', // completion less the 400 ms the round took
      completedAt: '2025-01-01T10:00:10.000Z',
      participants: ['a', 'b'],
      dropped: [{ client: 'b', phase: 'evaluate', reason: 'timeout', detail: 'no reply within 1000 ms' }],
      loss: 0.5,
      accuracy: 0.51,
      clients: [{ client: 'a', accuracy: 0.8, loss: 0.4, numExamples: 10 }],
    });
    expect(view).not.toHaveProperty('epsilon');
    expect(observer.clients().find((r) => r.name === 'a')).toMatchObject({ lastRound: 1, lastAccuracy: 0.8, lastLoss: 0.4 });
    expect(observer.clients().find((r) => r.name === 'b')).not.toHaveProperty('lastRound');
    expect(observer.runStatus).toEqual({ phase: 'training', round: 1, attempt: 2, rounds: 3, selected: [] });
    expect(observer.fairness().latest!.round).toBe(1);
    expect(updates.map((u) => u.event)).toEqual(['clients', 'clients', 'status', 'status', 'status', 'round', 'clients', 'status']);

    c.emit('run-completed', { runId: c.runId, rounds: 3 });
    expect(observer.snapshot()).toMatchObject({ runId: 'run-under-test', title: 'Cohort federation', status: { phase: 'completed', rounds: 3 }, privacy: { configured: false } });
    expect(updates.at(-1)).toEqual({ event: 'complete', data: observer.runStatus });
    // The final state no longer shows the clients connected; their sockets closing afterwards keeps that reason.
    expect(updates.at(-2)?.event).toBe('clients');
    expect(observer.clients().map((r) => [r.name, r.status, r.leftReason])).toEqual([['a', 'left', 'the run ended'], ['b', 'left', 'the run ended']]);
    c.emit('client-left', summary('a'), 'transport close');
    expect(observer.clients().find((r) => r.name === 'a')!.leftReason).toBe('the run ended');
  });

  it('reads the privacy budget from the accountant after each round, when there is one', () => {
    const c = new FakeCoordinator();
    let epsilon = 0;
    const observer = new RunObserver(c, { privacy: () => ({ configured: true, epsilon, delta: 1e-5, targetEpsilon: 8 }) });
    epsilon = 0.7;
    c.emit('round-completed', roundRecord(1, [['a', 0.5, 1]]));
    epsilon = 1.1;
    c.emit('round-completed', roundRecord(2, [['a', 0.6, 0.9]]));
    expect(observer.rounds().map((r) => r.epsilon)).toEqual([0.7, 1.1]);
    expect(observer.snapshot().privacy).toEqual({ configured: true, epsilon: 1.1, delta: 1e-5, targetEpsilon: 8 });
  });

  it('stops following the coordinator once detached', () => {
    const c = new FakeCoordinator();
    const observer = new RunObserver(c);
    observer.detach();
    c.emit('client-joined', summary('a'));
    expect(observer.clients()).toEqual([]);
    expect(c.listenerCount('round-completed')).toBe(0);
  });
});
