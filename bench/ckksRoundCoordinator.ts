/**
 * The coordinator of one federation of bench/ckksRound.ts, run as its own process so its peak RSS is its
 * own. Listens, tells the parent where, waits for 'go' (sent once every client has joined), runs the rounds
 * and reports each one, then its memory and CPU, and exits. In plain mode it writes the final model.
 *
 *   (forked by ckksRound.ts) ckksRoundCoordinator.ts '<CoordinatorConfig as JSON>'
 */
import { Coordinator } from '../src/coordinator/coordinator.js';
import { FedAvg } from '../src/coordinator/strategies/fedAvg.js';
import { CkksEvaluatorSide } from '../src/crypto/ckks/evaluatorSide.js';
import { epochMs } from './lib/constantStepTrainer.js';
import { cpuSeconds, maxRssBytes } from './lib/rss.js';
import { mlpInitialWeights } from './lib/mlpModel.js';
import { initialWeights, writeFlat } from './lib/shiftModel.js';

export interface CoordinatorConfig {
  readonly mode: 'plain' | 'ckks';
  readonly params: number;
  readonly clients: number;
  readonly rounds: number;
  readonly chunkBytes: number;
  readonly roundTimeoutMs: number;
  /** Plain mode: where to write the final global model (raw float32). */
  readonly modelOut: string;
  /** 'constant': the shift model, one step of learning rate 1; 'tfjs': the MLP, one epoch of SGD in batches of 32. */
  readonly trainer: 'constant' | 'tfjs';
}

/** Per-round instrumentation of the coordinator's CKKS sum (CkksEvaluatorSide, wrapped below). */
export interface SumTiming {
  /** Loading arriving ciphertexts and adding them into the running sum. */
  readonly addMs: number;
  /** Serializing the sum once the fit phase closes. */
  readonly serializeMs: number;
}

export type CoordinatorReport =
  | { readonly type: 'listening'; readonly port: number; readonly coordinatorKey: string; readonly rssStart: number; readonly rssWithModel: number }
  | { readonly type: 'round-started'; readonly round: number; readonly attempt: number; readonly at: number }
  | {
      readonly type: 'round-completed';
      readonly round: number;
      readonly at: number;
      readonly durationMs: number;
      readonly fitMs: number;
      readonly evaluateMs: number;
      readonly attempts: number;
      /** This process's CPU seconds (all threads) at the round's end. */
      readonly cpu: number;
      readonly failures: readonly string[];
      readonly sum: SumTiming;
      /** Payload bytes the coordinator's Peer counted ('traffic' events), this round, all clients. */
      readonly payloadIn: number;
      readonly payloadOut: number;
    }
  | { readonly type: 'done'; readonly maxRss: number; readonly cpuSeconds: number; readonly runMs: number; readonly encryptedModelBytes?: number }
  | { readonly type: 'failed'; readonly detail: string };

const config = JSON.parse(process.argv[2] ?? 'null') as CoordinatorConfig | null;
if (!config) throw new Error("usage: ckksRoundCoordinator.ts '<CoordinatorConfig as JSON>' (forked by bench/ckksRound.ts)");
const report = (r: CoordinatorReport) => new Promise<void>((resolve) => process.send!(r, () => resolve()));

// Instrumentation only (src/ is not changed): time the evaluator's ciphertext adds and its serialization.
let addMs = 0;
let serializeMs = 0;
const evaluatorProto = CkksEvaluatorSide.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
const add = evaluatorProto.add;
const serializeSum = evaluatorProto.serializeSum;
if (typeof add !== 'function' || typeof serializeSum !== 'function') {
  // src/ changed shape: say so rather than print zeros as if they were measured.
  throw new Error('bench/ckksRoundCoordinator.ts times CkksEvaluatorSide.add and .serializeSum, which no longer exist: update its instrumentation');
}
evaluatorProto.add = function (this: unknown, ...args: unknown[]) {
  const t0 = performance.now();
  try {
    return add.apply(this, args);
  } finally {
    addMs += performance.now() - t0;
  }
};
evaluatorProto.serializeSum = function (this: unknown, ...args: unknown[]) {
  const t0 = performance.now();
  try {
    return serializeSum.apply(this, args);
  } finally {
    serializeMs += performance.now() - t0;
  }
};

const rssStart = process.memoryUsage().rss;
const coordinator = await Coordinator.start({
  strategy: new FedAvg({
    minFitClients: config.clients,
    fractionEvaluate: 1,
    fit: config.trainer === 'tfjs' ? { epochs: 1, batchSize: 32, learningRate: 0.05 } : { epochs: 1, batchSize: 1, learningRate: 1 },
  }),
  initialWeights: config.trainer === 'tfjs' ? mlpInitialWeights(config.params) : initialWeights(config.params),
  rounds: config.rounds,
  roundTimeoutMs: config.roundTimeoutMs,
  secureAggregation: config.mode,
  transfer: { chunkBytes: config.chunkBytes },
});
let payloadIn = 0;
let payloadOut = 0;
coordinator.on('traffic', ({ direction, bytes }) => void (direction === 'in' ? (payloadIn += bytes) : (payloadOut += bytes)));
coordinator.on('round-started', ({ round, attempt }) => void report({ type: 'round-started', round, attempt, at: epochMs() }));
coordinator.on('round-completed', (r) => {
  const failures = [...r.fit.outcomes, ...(r.evaluate?.outcomes ?? [])].filter((o) => o.failure).map((o) => `${o.client}: ${o.failure!.reason} (${o.failure!.detail})`);
  void report({
    type: 'round-completed',
    round: r.round,
    at: epochMs(),
    durationMs: r.durationMs,
    fitMs: r.fit.durationMs,
    evaluateMs: r.evaluate?.durationMs ?? 0,
    attempts: r.attempts,
    cpu: cpuSeconds(),
    failures,
    sum: { addMs, serializeMs },
    payloadIn,
    payloadOut,
  });
  addMs = serializeMs = payloadIn = payloadOut = 0;
});
const port = Number(new URL(coordinator.url).port);
await report({ type: 'listening', port, coordinatorKey: Buffer.from(coordinator.identity.publicKey).toString('base64'), rssStart, rssWithModel: process.memoryUsage().rss });

process.once('message', async (m) => {
  if ((m as { type?: string }).type !== 'go') return;
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await coordinator.run();
    const runMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const maxRss = maxRssBytes();
    if (config.mode === 'plain') writeFlat(config.modelOut, result.weights);
    await report({ type: 'done', maxRss, cpuSeconds: (cpu.user + cpu.system) / 1e6, runMs, ...(result.encryptedModel ? { encryptedModelBytes: result.encryptedModel.bytes } : {}) });
  } catch (e) {
    await report({ type: 'failed', detail: (e as Error).message });
  } finally {
    await coordinator.close();
    process.exit(0);
  }
});
