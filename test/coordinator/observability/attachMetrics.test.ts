import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { attachMetrics } from '../../../src/coordinator/observability/attachMetrics.js';
import { FakeCoordinator, summary } from './fakeCoordinator.js';
import { sample } from './promText.js';
import { roundRecord } from './roundRecords.js';

describe('attachMetrics', () => {
  it('counts rounds, failures, clients, bytes and refusals from the coordinator\'s events', async () => {
    const c = new FakeCoordinator();
    const metrics = attachMetrics(c);
    c.emit('client-joined', summary('a', 'a-1'));
    c.emit('client-joined', summary('b'));
    c.emit('client-joined', summary('a', 'a-2')); // a reconnect replaces a-1...
    c.emit('client-left', summary('a', 'a-1'), 'replaced'); // ...whose departure must not count a-2 out
    c.emit('round-failed', { round: 1, attempt: 1, message: 'too few' });
    c.emit('traffic', { direction: 'out', bytes: 1_000 });
    c.emit('traffic', { direction: 'out', bytes: 24 });
    c.emit('traffic', { direction: 'in', bytes: 512, client: 'a' });
    c.emit('refused', { problem: 'malformed message' });
    c.emit('round-completed', roundRecord(1, [['a', 0.9, 0.2], ['b', 0.6, 0.5]], { durationMs: 1_500 }));
    c.emit('round-completed', roundRecord(2, [['a', 0.8, 0.2], ['b', 0.7, 0.5]], { durationMs: 200 }));
    c.emit('client-left', summary('b'), 'transport close');

    const text = await metrics.text();
    expect(sample(text, 'cohort_rounds_completed_total')).toBe(2);
    expect(sample(text, 'cohort_round_failures_total')).toBe(1);
    expect(sample(text, 'cohort_round')).toBe(2);
    expect(sample(text, 'cohort_connected_clients')).toBe(1);
    expect(sample(text, 'cohort_client_joins_total')).toBe(3);
    expect(sample(text, 'cohort_sent_bytes_total')).toBe(1_024);
    expect(sample(text, 'cohort_received_bytes_total')).toBe(512);
    expect(sample(text, 'cohort_refused_messages_total')).toBe(1);
    expect(sample(text, 'cohort_round_duration_seconds_count')).toBe(2);
    expect(sample(text, 'cohort_round_duration_seconds_sum')).toBeCloseTo(1.7, 9);
    expect(sample(text, 'cohort_round_duration_seconds_bucket{le="0.25"}')).toBe(1);
    expect(sample(text, 'cohort_round_duration_seconds_bucket{le="2.5"}')).toBe(2);
    expect(sample(text, 'cohort_federated_evaluation{metric="loss"}')).toBe(0.25);
    expect(sample(text, 'cohort_federated_evaluation{metric="accuracy"}')).toBe(0.52);
    expect(sample(text, 'cohort_client_spread{metric="accuracy",stat="worst"}')).toBe(0.7);
    expect(sample(text, 'cohort_client_spread{metric="accuracy",stat="best"}')).toBe(0.8);
    expect(sample(text, 'cohort_client_spread{metric="accuracy",stat="mean"}')).toBeCloseTo(0.75, 12);
    expect(sample(text, 'cohort_client_spread{metric="accuracy",stat="gap"}')).toBeCloseTo(0.05, 12);
    expect(sample(text, 'cohort_client_spread{metric="accuracy",stat="stddev"}')).toBeCloseTo(0.05, 12);
    expect(sample(text, 'cohort_client_spread{metric="loss",stat="worst"}')).toBe(0.5);
    expect(sample(text, 'cohort_run_info{run="run-under-test"}')).toBe(1);
  });

  it('keeps each coordinator\'s metrics in its own registry, and serves them read-only at /metrics', async () => {
    const [c1, c2] = [new FakeCoordinator(), new FakeCoordinator()];
    const m1 = attachMetrics(c1);
    const m2 = attachMetrics(c2);
    expect(m1.registry).not.toBe(m2.registry);
    c1.emit('round-completed', roundRecord(1, [['a', 0.5, 1]]));
    expect(sample(await m1.text(), 'cohort_rounds_completed_total')).toBe(1);
    expect(sample(await m2.text(), 'cohort_rounds_completed_total')).toBe(0);

    const url = await c1.listen();
    try {
      const response = await fetch(`${url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(sample(await response.text(), 'cohort_rounds_completed_total')).toBe(1);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${url}/other`)).status).toBe(404);
    } finally {
      await c1.close();
    }
  });

  it('uses a given registry, optionally with process metrics, and stops counting once detached', async () => {
    const registry = new Registry();
    const c = new FakeCoordinator();
    const metrics = attachMetrics(c, { registry, processMetrics: true });
    expect(metrics.registry).toBe(registry);
    // Nothing evaluated yet: no evaluation sample at all, rather than a misleading 0.
    expect(await registry.metrics()).not.toMatch(/^cohort_(federated_evaluation|client_spread)\{/m);
    expect(await registry.metrics()).toMatch(/^cohort_process_resident_memory_bytes /m);
    metrics.detach();
    c.emit('round-completed', roundRecord(1, [['a', 0.5, 1]]));
    expect(sample(await metrics.text(), 'cohort_rounds_completed_total')).toBe(0);
  });
});
