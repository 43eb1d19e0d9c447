import { afterEach, describe, expect, it } from 'vitest';
import { hostInWorkers } from '../../../src/cli/simulation/clientPool.js';
import type { FederationSettings, VirtualClient } from '../../../src/cli/simulation/virtualClients.js';
import { selectBackend } from '../../../src/client/backend/index.js';
import { loadCsvData } from '../../../src/client/data/index.js';
import { modelSpecSchema } from '../../../src/client/model/modelSpec.js';
import { createTabularNode } from '../../../src/client/tabularTrainer.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity } from '../../../src/crypto/identity.js';
import { TestFederation } from '../../helpers/federation.js';
import { silent } from '../../helpers/silentLogger.js';
import { waitUntil } from '../../helpers/waitUntil.js';

const model = modelSpecSchema.parse({ type: 'mlp', hidden: [4], outputs: 1 });
const hospital = (name: string): VirtualClient => {
  const data = loadCsvData({ path: `examples/breast-cancer/data/hospitals/${name}.csv`, label: 'target', testFraction: 0.25, seed: 7, standardize: false });
  return { name, identity: generateIdentity(), data: { train: data.train, test: data.test }, datasetFingerprint: data.meta.schemaFingerprint, byzantine: false };
};

let federation: TestFederation | undefined;
afterEach(async () => federation?.close());

describe('hostInWorkers', () => {
  it('rejects with the failing client named when a worker cannot build it, and stops the other workers', async () => {
    await selectBackend({ preference: 'wasm', log: () => undefined });
    const [north, central, south] = ['north', 'central', 'south'].map(hospital) as [VirtualClient, VirtualClient, VirtualClient];
    // South's feature buffer lost its rows: its worker fails building it, after north's worker has started.
    const broken: VirtualClient = { ...south, data: { ...south.data, train: { ...south.data.train, x: new Float32Array(5) } } };
    const initial = createTabularNode({ model, data: north.data, localStandardization: false, optimizer: 'adam', seed: 1 });
    federation = new TestFederation();
    const coordinator = await federation.coordinator({
      strategy: new FedAvg({ fit: { epochs: 1, batchSize: 16, learningRate: 0.01 }, minFitClients: 3 }),
      initialWeights: initial.trainer.getWeights(),
      rounds: 1,
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      waitForClientsMs: 30_000,
    });
    initial.trainer.dispose();
    coordinator.run().catch(() => undefined); // waits for three clients that never all come
    const settings: FederationSettings = { url: coordinator.url, coordinatorKey: coordinator.identity.publicKey, model, optimizer: 'adam', seed: 1, localStandardization: false };

    const host = hostInWorkers({ settings, clients: [north, central, broken], workers: 2, backend: 'wasm', logLevel: 'silent' });
    expect(host.description).toBe('2 worker threads host 3 clients (1 to 2 each)');
    await expect(host.failure).rejects.toThrow(/^simulation worker 2 of 2 \(2 clients: central \.\. south\) failed: client south: .*should have 1980 values but has 5/);
    // The healthy worker's client is still connected until the pool is closed, then it is cut off.
    await waitUntil(() => coordinator.clients.some((c) => c.name === 'north'), 'north to connect from its worker');
    await host.close();
    await waitUntil(() => coordinator.clients.length === 0, 'the closed pool to drop its clients');
    await host.close(); // idempotent
  }, 60_000);
});
