import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/client/clientNode.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import type { DataSchema } from '../../src/protocol/dataSchema.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { silent } from '../helpers/silentLogger.js';
import { waitUntil } from '../helpers/waitUntil.js';

const schema = (...names: string[]): DataSchema => ({ features: names.map((name) => ({ name, type: 'numeric' as const })), label: { name: 'y' } });
const fit = { epochs: 1, batchSize: 8, learningRate: 0.1 };

let fed: TestFederation;
afterEach(async () => fed.close());

/** A trainer that counts its fits: a refused site must never train. */
function counted(seed: number): LinearTrainer & { fits: number } {
  const d = linearData(30, seed);
  const t = Object.assign(new LinearTrainer(d.xs, d.ys), { fits: 0 });
  t.beforeFit = () => void t.fits++;
  return t;
}

describe('the study schema over real sockets', () => {
  it('without a pinned schema, adopts the first site\'s and refuses a later site with columns swapped, which never trains', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 2, fit }), initialWeights: linearZeros(), rounds: 2, logger: silent });
    const adopted: string[] = [];
    const refusedAtCoordinator: string[] = [];
    coordinator.on('schema-adopted', ({ client }) => adopted.push(client));
    coordinator.on('schema-refused', ({ reason }) => refusedAtCoordinator.push(reason));
    const first = counted(1);
    fed.client(coordinator.url, 'a', first, { dataSchema: schema('age', 'sex'), logger: silent });
    await waitUntil(() => coordinator.clients.length === 1, 'the first site to join');
    const swappedTrainer = counted(2);
    const events: ClientEvent[] = [];
    const swapped = fed.client(coordinator.url, 'b', swappedTrainer, { dataSchema: schema('sex', 'age'), logger: silent, onEvent: (e) => events.push(e) });
    await expect(swapped.done).rejects.toThrow("coordinator refused b: site b: columns 1 and 2 swapped (age, sex) against the study's schema (taken from a, the first site to join; pin dataSchema in the experiment to decide it)");
    expect(events.filter((e) => e.type === 'refused')).toHaveLength(1);
    expect(adopted).toEqual(['a']);
    expect(refusedAtCoordinator).toHaveLength(1);
    // A matching site and one that announces no schema (a custom trainer) join; the run trains without b.
    fed.client(coordinator.url, 'c', counted(3), { dataSchema: schema('age', 'sex'), logger: silent });
    fed.client(coordinator.url, 'd', counted(4), { logger: silent });
    await waitUntil(() => coordinator.clients.length === 3, 'a, c and d connected');
    const result = await coordinator.run();
    expect(result.history).toHaveLength(2);
    expect(result.history[0]!.fit.outcomes.map((o) => o.client).sort()).toEqual(['a', 'c', 'd']);
    expect(first.fits).toBe(2);
    expect(swappedTrainer.fits).toBe(0);
  });

  it('with a pinned schema, refuses a site that announces none and one whose label differs', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: linearZeros(), rounds: 1, logger: silent, dataSchema: schema('age', 'sex') });
    const none = fed.client(coordinator.url, 'quiet', counted(1), { logger: silent });
    await expect(none.done).rejects.toThrow(/site quiet announced no data schema, and the study pins one/);
    const label = fed.client(coordinator.url, 'other', counted(2), { dataSchema: { ...schema('age', 'sex'), label: { name: 'outcome' } }, logger: silent });
    await expect(label.done).rejects.toThrow("site other: the label is 'outcome', the study's is 'y' against the study's schema");
    fed.client(coordinator.url, 'good', counted(3), { dataSchema: schema('age', 'sex'), logger: silent });
    const result = await coordinator.run();
    expect(result.history[0]!.fit.outcomes.map((o) => o.client)).toEqual(['good']);
  });
});
