/**
 * The coordinator of one federation of bench/perClient.ts, in its own process: listens, tells the parent where,
 * waits for 'go' (sent once every client joined), runs FedAvg over the rounds, reports each round as it
 * completes, writes the last global model (raw float32) and exits.
 *
 *   (forked by perClient.ts) perClientCoordinator.ts '<PerClientCoordinatorConfig as JSON>'
 */
import { Coordinator } from '../src/coordinator/coordinator.js';
import { FedAvg } from '../src/coordinator/strategies/fedAvg.js';
import { mlpInitialWeights } from './lib/mlpModel.js';
import { writeFlat } from './lib/shiftModel.js';
import { epochMs } from './lib/constantStepTrainer.js';

export interface PerClientCoordinatorConfig {
  readonly params: number;
  readonly clients: number;
  readonly rounds: number;
  /** 0: no federated evaluation (the final model then reaches clients only at the run's end); 1: every client, every round. */
  readonly fractionEvaluate: number;
  readonly modelOut: string;
  /** FedAvg's aggregationSlots (uploads staged at once); undefined: its default. */
  readonly slots?: number;
}

export type PerClientCoordinatorReport =
  | { readonly type: 'listening'; readonly port: number; readonly coordinatorKey: string }
  | { readonly type: 'round-completed'; readonly round: number; readonly endedAt: number; readonly durationMs: number; readonly fitMs: number; readonly evaluateMs: number; readonly failures: number; readonly payloadOut: number; readonly payloadIn: number }
  | { readonly type: 'done'; readonly runMs: number; readonly cpuSeconds: number }
  | { readonly type: 'failed'; readonly detail: string };

const config = JSON.parse(process.argv[2] ?? 'null') as PerClientCoordinatorConfig | null;
if (!config) throw new Error("usage: perClientCoordinator.ts '<PerClientCoordinatorConfig as JSON>' (forked by bench/perClient.ts)");
const report = (r: PerClientCoordinatorReport) => new Promise<void>((resolve) => process.send!(r, () => resolve()));

const coordinator = await Coordinator.start({
  strategy: new FedAvg({ minFitClients: config.clients, fractionEvaluate: config.fractionEvaluate, fit: { epochs: 1, batchSize: 32, learningRate: 0.05 }, ...(config.slots !== undefined ? { aggregationSlots: config.slots } : {}) }),
  initialWeights: mlpInitialWeights(config.params),
  rounds: config.rounds,
  roundTimeoutMs: 60_000,
});
let payloadIn = 0;
let payloadOut = 0;
coordinator.on('traffic', ({ direction, bytes }) => void (direction === 'in' ? (payloadIn += bytes) : (payloadOut += bytes)));
coordinator.on('round-completed', (r) => {
  const failures = [...r.fit.outcomes, ...(r.evaluate?.outcomes ?? [])].filter((o) => o.failure).length;
  void report({ type: 'round-completed', round: r.round, endedAt: epochMs(), durationMs: r.durationMs, fitMs: r.fit.durationMs, evaluateMs: r.evaluate?.durationMs ?? 0, failures, payloadIn, payloadOut });
  payloadIn = payloadOut = 0;
});
await report({ type: 'listening', port: Number(new URL(coordinator.url).port), coordinatorKey: Buffer.from(coordinator.identity.publicKey).toString('base64') });

process.once('message', async (m) => {
  if ((m as { type?: string }).type !== 'go') return;
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await coordinator.run();
    const runMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    writeFlat(config.modelOut, result.weights);
    await report({ type: 'done', runMs, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  } catch (e) {
    await report({ type: 'failed', detail: (e as Error).message });
  } finally {
    await coordinator.close();
    process.exit(0);
  }
});
