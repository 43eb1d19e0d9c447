import { afterEach, describe, expect, it } from 'vitest';
import { startClient } from '../../../src/client/clientNode.js';
import { Coordinator } from '../../../src/coordinator/coordinator.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import type { EvaluateConfig, FitConfig, Trainer } from '../../../src/client/trainer.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { LinearTrainer } from '../../helpers/linearTrainer.js';
import { silent } from '../../helpers/silentLogger.js';
import { waitUntil } from '../../helpers/waitUntil.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A trainer whose first getWeights() (the model's shape, read before the first hello) answers only when released. */
class SlowFirstRead implements Trainer {
  private readonly inner = new LinearTrainer([[1, 2]], [1]);
  private first = true;
  release: () => void = () => undefined;
  getWeights(): Weights | Promise<Weights> {
    if (!this.first) return this.inner.getWeights();
    this.first = false;
    return new Promise((resolve) => (this.release = () => resolve(this.inner.getWeights())));
  }
  setWeights(weights: Weights): void {
    this.inner.setWeights(weights);
  }
  fit(config: FitConfig) {
    return this.inner.fit(config);
  }
  evaluate(config: EvaluateConfig) {
    return this.inner.evaluate(config);
  }
  describe() {
    return this.inner.describe();
  }
}

describe('a hello prepared for a connection that is gone by the time it is ready', () => {
  it('is not sent on the next connection, which handshakes once and joins', async () => {
    const shape = new LinearTrainer([[1, 2]], [1]);
    // A handshake deadline the first connection misses: it is refused as busy and the node reconnects.
    const coordinator = await Coordinator.start({ strategy: new FedAvg({ minFitClients: 1, fit: { epochs: 1, batchSize: 4, learningRate: 0.1 } }), initialWeights: shape.getWeights(), rounds: 1, helloTimeoutMs: 200, logger: silent });
    cleanups.push(() => coordinator.close());
    const trainer = new SlowFirstRead();
    const events: string[] = [];
    const node = startClient({
      url: coordinator.url,
      name: 'site',
      trainer,
      logger: silent,
      coordinatorKey: coordinator.identity.publicKey,
      reconnectDelayMs: 50,
      onEvent: (e) => {
        events.push(e.type === 'refused' || e.type === 'retrying' ? `${e.type}: ${e.reason}` : e.type);
        // The first connection's hello becomes ready only once the second connection is open.
        if (e.type === 'connected' && events.filter((t) => t === 'connected').length === 2) trainer.release();
      },
    });
    cleanups.push(() => node.stop());
    await waitUntil(() => events.includes('welcome') || events.some((t) => t.startsWith('refused')), 'the node joined or was refused');
    expect(events.filter((t) => t.startsWith('refused'))).toEqual([]);
    expect(events).toContain('welcome');
    const run = await coordinator.run();
    expect(run.history[0]!.fit.outcomes.map((o) => o.client)).toEqual(['site']);
  });
});
