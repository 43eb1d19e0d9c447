/**
 * The reference experiment of McMahan et al. 2017 ("Communication-Efficient Learning of Deep Networks from
 * Decentralized Data", Table 1): the 2NN (784-200-200-10) on MNIST, 100 clients, C = 0.1, E = 1, B = 10, FedAvg;
 * IID or pathological non-IID (sorted by label, 2 shards of 300 per client). Counts the rounds until the global
 * model reaches the target test accuracy (97 %), next to the paper's numbers. One process, real sockets.
 *
 *   npx tsx examples/mnist/federated.ts [--partition iid|shards] [--strategy fedavg|scaffold] [--max-rounds 300] [--lr 0.1] [--target 0.97]
 *       [--secure-aggregation plain|secaggplus] [--compression none|int8|topk] [--topk-fraction 0.1] [--deflate]
 *
 * Paper (Table 1, 2NN, E = 1, B = 10, C = 0.1): 87 rounds IID, 664 rounds non-IID (FedSGD baselines: 1455 / 4278).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';
import { Coordinator, FedAvg, type FedAvgOptions, TfjsTrainer, selectBackend, startClient } from '../../src/index.js';
import { buildModel, modelSpecSchema, readModelWeights, type TabularData } from '../../src/entries/client.js';
import { Scaffold, type CompressionOptions } from '../../src/entries/coordinator.js';
import { iidPartition, shardPartition, splitTable } from '../../src/entries/simulation.js';
import { loadMnist, MNIST_CLASSES, MNIST_FEATURES } from './data.js';

const { values } = parseArgs({
  options: {
    partition: { type: 'string', default: 'iid' },
    'max-rounds': { type: 'string', default: '300' },
    lr: { type: 'string', default: '0.1' },
    target: { type: 'string', default: '0.97' },
    seed: { type: 'string', default: '42' },
    backend: { type: 'string', default: 'wasm' },
    strategy: { type: 'string', default: 'fedavg' },
    'secure-aggregation': { type: 'string', default: 'plain' },
    compression: { type: 'string', default: 'none' },
    'topk-fraction': { type: 'string', default: '0.1' },
    deflate: { type: 'boolean', default: false },
  },
});
if (values.strategy !== 'fedavg' && values.strategy !== 'scaffold') throw new Error(`--strategy is fedavg or scaffold, got ${values.strategy}`);
const secureAggregation = values['secure-aggregation'];
if (secureAggregation !== 'plain' && secureAggregation !== 'secaggplus') throw new Error(`--secure-aggregation is plain or secaggplus, got ${secureAggregation}`);
const compression = parseCompression(values.compression, Number(values['topk-fraction']), values.deflate);
const seed = Number(values.seed);
const target = Number(values.target);
const maxRounds = Number(values['max-rounds']);
await selectBackend({ preference: values.backend === 'cpu' ? 'cpu' : 'wasm', log: (l) => console.log(l) });
const data = loadMnist();
const spec = modelSpecSchema.parse({ type: 'mlp', hidden: [200, 200], outputs: MNIST_CLASSES });
const tensors = (t: TabularData) => ({ x: tf.tensor2d(t.x, [t.rows, MNIST_FEATURES]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(t.y, 'int32'), MNIST_CLASSES).toFloat()) });
const parts = values.partition === 'shards' ? shardPartition(data.train.y, { clients: 100, seed }) : iidPartition(data.train.rows, { clients: 100, seed });
const shards = splitTable(data.train, parts);

// The central test set scores the global model after every round (the paper's measure).
const evaluator = new TfjsTrainer({ model: buildModel(spec, MNIST_FEATURES, seed), train: tensors(data.test), test: tensors(data.test), loss: 'categoricalCrossentropy', accuracy: true });
let reached: number | undefined;
const traffic = trafficCounter();
const options: FedAvgOptions = {
  fractionFit: 0.1,
  minFitClients: 10,
  minAvailableClients: 100,
  fractionEvaluate: 0,
  minEvaluateClients: 0,
  fit: { epochs: 1, batchSize: 10, learningRate: Number(values.lr) },
  evaluateFn: async (_round, weights) => {
    evaluator.setWeights(weights);
    return evaluator.evaluate({ round: 0, batchSize: 2000 });
  },
};
// SCAFFOLD (Karimireddy et al. 2020) corrects each client's drift with control variates; N = all 100 clients.
const strategy = values.strategy === 'scaffold' ? new Scaffold({ ...options, totalClients: 100 }) : new FedAvg(options);
const logger = pino({ level: 'error' }, pino.destination(2));
const started = performance.now();
const coordinator = await Coordinator.start({
  strategy,
  initialWeights: readModelWeights(buildModel(spec, MNIST_FEATURES, seed)),
  rounds: maxRounds,
  seed,
  logger,
  secureAggregation,
  ...(compression ? { compression } : {}),
  maxConnectionsPerMinute: 1_000,
  maxPendingHandshakes: 200,
  onRound: (r) => {
    const accuracy = r.central?.metrics.accuracy ?? 0;
    const bytes = traffic.round(coordinator.socketBytes);
    console.log(`round ${r.round}: test accuracy ${(100 * accuracy).toFixed(2)} %, socket ${kB(bytes.received)} received (uploads) ${kB(bytes.sent)} sent  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    if (accuracy >= target && reached === undefined) {
      reached = r.round;
      void coordinator.close().then(() => finish());
    }
  },
});
const handles = shards.map((shard, i) =>
  startClient({
    url: coordinator.url,
    name: `client-${i}`,
    logger,
    coordinatorKey: coordinator.identity.publicKey,
    trainer: new TfjsTrainer({ model: buildModel(spec, MNIST_FEATURES, seed), train: tensors(shard), test: tensors(shard), loss: 'categoricalCrossentropy', seed: seed + i }),
  }),
);

function finish(): void {
  const paper = values.partition === 'shards' ? 664 : 87;
  const rounds = Math.max(1, traffic.rounds);
  console.log(`\n2NN, ${values.strategy}, ${secureAggregation}, compression ${values.compression}${compression?.method === 'topk' ? ` ${compression.fraction}` : ''}${values.deflate ? ' deflated' : ''}, ${values.partition}, C = 0.1, E = 1, B = 10, lr ${values.lr}: ${reached === undefined ? `did not reach ${100 * target} % in ${maxRounds} rounds` : `${reached} rounds to ${100 * target} %`} (McMahan et al. Table 1: ${paper}); ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(`bytes on the socket a round (mean over ${traffic.rounds} rounds): ${kB(traffic.total.received / rounds)} received (the uploads), ${kB(traffic.total.sent / rounds)} sent (the downloads)`);
  for (const h of handles) void h.stop();
  process.exit(0);
}

/** The coordinator's socket bytes per round (the first round also carries the 100 handshakes). */
function trafficCounter() {
  let last = { received: 0, sent: 0 };
  const total = { received: 0, sent: 0 };
  const counter = {
    rounds: 0,
    total,
    round(now: { received: number; sent: number }) {
      const delta = { received: now.received - last.received, sent: now.sent - last.sent };
      last = { ...now };
      counter.rounds++;
      total.received += delta.received;
      total.sent += delta.sent;
      return delta;
    },
  };
  return counter;
}

function kB(bytes: number): string {
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

function parseCompression(method: string, fraction: number, deflate: boolean): CompressionOptions | undefined {
  if (method === 'none') return undefined;
  if (method === 'int8') return { method: 'int8', deflate };
  if (method === 'topk') return { method: 'topk', fraction };
  throw new Error(`--compression is none, int8 or topk, got ${method}`);
}

await coordinator.run().catch(() => undefined);
finish();
