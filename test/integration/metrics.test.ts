import { silent } from '../helpers/silentLogger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { attachMetrics } from '../../src/coordinator/observability/attachMetrics.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import type { Ack } from '../../src/protocol/socketLike.js';
import { encodedByteLength } from '../../src/protocol/tensorCodec.js';
import { specOf, type Weights } from '../../src/protocol/tensors.js';
import { sample } from '../coordinator/observability/promText.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { connectRawSocket } from '../helpers/socketPair.js';

const ROUNDS = 3;
const CLIENTS = 3;

const zeros = linearZeros;

let fed: TestFederation;
afterEach(async () => fed.close());

describe('Prometheus metrics of a real federation', () => {
  it('counts rounds, clients, streamed bytes and refusals, served at /metrics on the coordinator port', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: CLIENTS, fit: { epochs: 3, batchSize: 8, learningRate: 0.2 } }), initialWeights: zeros(), rounds: ROUNDS, logger: silent });
    attachMetrics(coordinator);
    const scrape = async () => {
      const response = await fetch(`${coordinator.url}/metrics`);
      expect(response.status).toBe(200);
      return response.text();
    };
    expect(sample(await scrape(), 'cohort_refused_messages_total')).toBe(0);

    // One garbage message from a raw socket.io client that never said hello.
    const raw = await connectRawSocket(coordinator.url);
    const ack = (await raw.timeout(5_000).emitWithAck('msg', { type: 'launch-missiles' })) as Ack;
    expect(ack.ok).toBe(false);
    raw.disconnect();
    expect(sample(await scrape(), 'cohort_refused_messages_total')).toBe(1);

    // Connected clients, read in the middle of the run.
    let duringRun: Promise<string> | undefined;
    coordinator.once('round-completed', () => void (duringRun = scrape()));
    for (let i = 0; i < CLIENTS; i++) {
      const d = linearData(20 + 10 * i, i + 1);
      fed.client(coordinator.url, `h${i}`, new LinearTrainer(d.xs, d.ys, `h${i}`), { logger: silent });
    }
    const result = await coordinator.run();
    expect(result.history).toHaveLength(ROUNDS);
    expect(sample(await duringRun!, 'cohort_connected_clients')).toBe(CLIENTS);

    // run() returns once every client has hung up, and each departure was counted as it happened.
    const text = await scrape();
    console.log(`/metrics after a ${ROUNDS}-round run with ${CLIENTS} clients:\n${text}`);

    expect(sample(text, 'cohort_rounds_completed_total')).toBe(ROUNDS);
    expect(sample(text, 'cohort_round_failures_total')).toBe(0);
    expect(sample(text, 'cohort_round')).toBe(ROUNDS);
    expect(sample(text, 'cohort_round_duration_seconds_count')).toBe(ROUNDS);
    const durationSum = result.history.reduce((s, r) => s + r.durationMs / 1000, 0);
    expect(sample(text, 'cohort_round_duration_seconds_sum')).toBeCloseTo(durationSum, 6);
    expect(sample(text, 'cohort_client_joins_total')).toBe(CLIENTS);
    expect(sample(text, 'cohort_connected_clients')).toBe(0);
    expect(sample(text, 'cohort_refused_messages_total')).toBe(1);
    expect(sample(text, 'cohort_federated_evaluation{metric="loss"}')).toBeCloseTo(result.history.at(-1)!.evaluate!.loss!, 9);
    expect(text).not.toContain('cohort_federated_evaluation{metric="accuracy"}'); // LinearTrainer reports none

    // Streamed payload bytes: each client receives the initial model, then each round's global once (to
    // evaluate; the next fit reuses it), and sends one encoded update of the same shape back a round.
    const model = encodedByteLength(specOf(zeros()));
    expect(sample(text, 'cohort_sent_bytes_total')).toBe((ROUNDS + 1) * CLIENTS * model);
    expect(sample(text, 'cohort_received_bytes_total')).toBe(ROUNDS * CLIENTS * model);
  });
});
