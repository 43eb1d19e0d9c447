import { afterEach, describe, expect, it } from 'vitest';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';

let fed: TestFederation;
afterEach(async () => fed.close());

const zeros = linearZeros;

function trainers(n: number): LinearTrainer[] {
  return Array.from({ length: n }, (_, i) => {
    const d = linearData(20 + 10 * i, i + 1);
    return new LinearTrainer(d.xs, d.ys, `h${i}`);
  });
}

const fit = { epochs: 5, batchSize: 8, learningRate: 0.2 };

describe('a plaintext federation over loopback sockets', () => {
  it('trains a shared model across 3 clients for several rounds', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 3, fit }), initialWeights: zeros(), rounds: 4 });
    for (const t of trainers(3)) fed.client(coordinator.url, t.name, t);
    const result = await coordinator.run();
    expect(result.history).toHaveLength(4);
    const losses = result.history.map((r) => r.evaluate!.loss!);
    expect(losses[3]!).toBeLessThan(losses[0]! * 0.5);
    for (const r of result.history) expect(r.fit.outcomes.filter((o) => !o.failure)).toHaveLength(3);
    const [w, b] = result.weights;
    expect(w!.data[0]).toBeGreaterThan(0.5); // moving toward y = 2 x0 - 3 x1 + 1
    expect(w!.data[1]).toBeLessThan(-0.5);
    expect(b!.data[0]).toBeGreaterThan(0.2);
  });

  it('drops a straggler at the deadline and completes the round with the others', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 3, fit }),
      initialWeights: zeros(),
      rounds: 2,
      roundTimeoutMs: 2_000,
    });
    const ts = trainers(3);
    ts[2]!.beforeFit = (config) => (config.round === 1 ? new Promise((r) => setTimeout(r, 2_500)) : undefined);
    for (const t of ts) fed.client(coordinator.url, t.name, t);
    const result = await coordinator.run();
    const round1 = result.history[0]!.fit.outcomes;
    expect(round1.filter((o) => !o.failure).map((o) => o.client).sort()).toEqual(['h0', 'h1']);
    expect(round1.find((o) => o.client === 'h2')!.failure!.reason).toBe('timeout');
    // Dropped from round 1, the straggler is not asked to evaluate it (the round does not wait for it twice).
    expect(result.history[0]!.evaluate!.outcomes.map((o) => o.client).sort()).toEqual(['h0', 'h1']);
    // Round 1's late upload is refused as stale; the straggler, done with it half-way through round 2's
    // deadline, counts again in round 2.
    const round2 = result.history[1]!.fit.outcomes;
    expect(round2.filter((o) => !o.failure)).toHaveLength(3);
  });

  it('completes a round when a client disconnects mid-round', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 2, fit }),
      initialWeights: zeros(),
      rounds: 2,
      roundTimeoutMs: 10_000,
    });
    const ts = trainers(3);
    const handles = ts.map((t) => fed.client(coordinator.url, t.name, t));
    let ready = 0;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        ready = coordinator.clients.length;
        if (ready === 3) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    ts[1]!.beforeFit = () => void handles[1]!.stop(); // leaves while training round 1
    const started = performance.now();
    const result = await coordinator.run();
    expect(performance.now() - started).toBeLessThan(9_000); // did not wait for the deadline
    const round1 = result.history[0]!.fit.outcomes;
    expect(round1.find((o) => o.client === 'h1')!.failure!.reason).toBe('disconnected');
    expect(round1.filter((o) => !o.failure)).toHaveLength(2);
    expect(result.history[1]!.fit.outcomes.map((o) => o.client).sort()).toEqual(['h0', 'h2']);
  });

  it('fails a round below minFitClients, retries it, then gives up with a clear error', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 2, fit }),
      initialWeights: zeros(),
      rounds: 1,
      maxRoundRetries: 1,
    });
    const ts = trainers(2);
    let attempts = 0;
    ts[0]!.beforeFit = () => {
      attempts++;
      throw new Error('GPU on fire');
    };
    for (const t of ts) fed.client(coordinator.url, t.name, t);
    await expect(coordinator.run()).rejects.toThrow(/round 1 attempt 2 failed: 1 of the 2 required updates arrived.*h0: client-error \(GPU on fire\)/);
    expect(attempts).toBe(2);
  });

  it('keeps serving when clients reconnect to a restarted coordinator', async () => {
    fed = new TestFederation();
    const first = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 2, fit }), initialWeights: zeros(), rounds: 1 });
    const port = Number(new URL(first.url).port);
    for (const t of trainers(2)) fed.client(first.url, t.name, t);
    while (first.clients.length < 2) await new Promise((r) => setTimeout(r, 20));
    await first.close(); // the clients see a dropped transport and retry with backoff
    const second = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 2, fit }), initialWeights: zeros(), rounds: 2, port });
    const result = await second.run();
    expect(result.history).toHaveLength(2);
    expect(result.history[1]!.fit.outcomes.filter((o) => !o.failure)).toHaveLength(2);
  });
});
