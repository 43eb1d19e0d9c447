/**
 * SecAgg+ on MNIST with 100 clients, every client in every round, under injected dropouts and with distributed
 * DP: the closing checks of the SecAgg+ issue, one mode per run so the same seed can be run in each.
 *
 * Dropouts (a seeded dropoutSchedule: each round a fresh 10 % leave after the key exchange and before uploading,
 * and 30 % right after their upload was accepted; they reconnect for the next round). Under secaggplus the run
 * checks, every round, that the coordinator's unmasked sum (its audit entry's SHA-256) equals the survivors'
 * quantized updates summed here mod 2^32 (each client shows its encoding through SimulationHooks). Run plain
 * with the same drops to compare accuracy:
 *
 *   npx tsx examples/mnist/secaggplus.ts --mode plain --drop-before 0.1 --drop-after 0.3 --rounds 5
 *   npx tsx examples/mnist/secaggplus.ts --mode secaggplus --drop-before 0.1 --drop-after 0.3 --rounds 5 --neighbours 98 --threshold 50
 *
 * Client-level DP at (--epsilon, --delta) over the rounds: central DP-FedAvg (plain: the coordinator clips to C
 * and adds N(0, z^2 C^2) to the sum) or the distributed discrete Gaussian (secaggplus: each client adds its share
 * of the noise before masking). z is the replace-one multiplier that reaches epsilon at q = 1; under secaggplus
 * the ledger charges z sqrt((m - c) / m) (c = 1 colluder knows its own share), so its clients add z sqrt(m / (m - c))
 * to spend the same epsilon:
 *
 *   npx tsx examples/mnist/secaggplus.ts --mode plain --epsilon 8 --delta 1e-5 --clip-norm 1 --rounds 5
 *   npx tsx examples/mnist/secaggplus.ts --mode secaggplus --epsilon 8 --delta 1e-5 --clip-norm 1 --rounds 5
 *
 * The 2NN of McMahan et al. 2017 (784-200-200-10, 199,210 parameters), IID shards of 600, E = 1, B = --batch.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { pino } from 'pino';
import { Coordinator, FedAvg, TfjsTrainer, selectBackend, startClient } from '../../src/index.js';
import type { FitConfig, Trainer } from '../../src/client/trainer.js';
import { buildModel, modelSpecSchema, readModelWeights, type TabularData } from '../../src/entries/client.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { noiseMultiplierForEpsilon } from '../../src/entries/privacy.js';
import { dropoutSchedule, iidPartition, splitTable } from '../../src/entries/simulation.js';
import { loadMnist, MNIST_CLASSES, MNIST_FEATURES } from './data.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'secaggplus' },
    rounds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '100' },
    'drop-before': { type: 'string', default: '0' },
    'drop-after': { type: 'string', default: '0' },
    neighbours: { type: 'string' },
    threshold: { type: 'string' },
    epsilon: { type: 'string' },
    delta: { type: 'string', default: '1e-5' },
    'clip-norm': { type: 'string', default: '1' },
    batch: { type: 'string', default: '50' },
    lr: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '42' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const mode = values.mode;
if (mode !== 'plain' && mode !== 'secaggplus') throw new Error(`--mode is plain or secaggplus, got ${mode}`);
const seed = Number(values.seed);
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const dropBefore = Number(values['drop-before']);
const dropAfter = Number(values['drop-after']);
await selectBackend({ preference: values.backend === 'cpu' ? 'cpu' : 'wasm', log: () => undefined });
const data = loadMnist();
const spec = modelSpecSchema.parse({ type: 'mlp', hidden: [200, 200], outputs: MNIST_CLASSES });
const tensors = (t: TabularData) => ({ x: tf.tensor2d(t.x, [t.rows, MNIST_FEATURES]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(t.y, 'int32'), MNIST_CLASSES).toFloat()) });
const shards = splitTable(data.train, iidPartition(data.train.rows, { clients, seed }));
const names = shards.map((_, i) => `client-${String(i).padStart(3, '0')}`);
const schedule = dropoutSchedule(names, { beforeUpload: dropBefore, afterUpload: dropAfter, seed });

// Client-level DP: z for (epsilon, delta) over the rounds, replace-one at q = 1 (as examples/heart-disease does).
const epsilon = values.epsilon === undefined ? undefined : Number(values.epsilon);
const delta = Number(values.delta);
const central = epsilon === undefined ? undefined : 2 * noiseMultiplierForEpsilon({ epsilon, delta, q: 1, steps: rounds }).sigma;
const colluders = 1;
const noiseMultiplier = central === undefined ? undefined : mode === 'secaggplus' ? central * Math.sqrt(clients / (clients - colluders)) : central;
const privacy = noiseMultiplier === undefined ? undefined : { clipNorm: Number(values['clip-norm']), noiseMultiplier, delta, targetEpsilon: epsilon! * 1.001, colluders };

const evaluator = new TfjsTrainer({ model: buildModel(spec, MNIST_FEATURES, seed), train: tensors(data.test), test: tensors(data.test), loss: 'categoricalCrossentropy', accuracy: true });
const survivorsNeeded = clients - Math.round(clients * dropBefore);
const strategy = new FedAvg({
  fractionFit: 1,
  minFitClients: survivorsNeeded,
  minAvailableClients: clients,
  fractionEvaluate: 0,
  minEvaluateClients: 0,
  fit: { epochs: 1, batchSize: Number(values.batch), learningRate: Number(values.lr) },
  evaluateFn: async (_round, weights) => {
    evaluator.setWeights(weights);
    return evaluator.evaluate({ round: 0, batchSize: 2000 });
  },
});

/**
 * Trains one client at a time: 100 fits interleaved in one thread would each yield to the event loop only after
 * all the others took a step, and on a loaded machine heartbeats then wait past socket.io's ping timeout.
 */
let trainingQueue: Promise<unknown> = Promise.resolve();
class OneAtATime implements Trainer {
  constructor(private readonly inner: TfjsTrainer) {}
  describe() {
    return this.inner.describe();
  }
  getWeights() {
    return this.inner.getWeights();
  }
  setWeights(weights: Parameters<Trainer['setWeights']>[0]) {
    return this.inner.setWeights(weights);
  }
  fit(config: FitConfig) {
    const run = trainingQueue.then(() => new Promise((r) => setImmediate(r))).then(() => this.inner.fit(config));
    trainingQueue = run.catch(() => undefined);
    return run;
  }
  evaluate(config: Parameters<Trainer['evaluate']>[0]) {
    return this.inner.evaluate(config);
  }
}

// What each client encoded (before masking), by round, and what the coordinator unmasked.
const encoded = new Map<number, Map<string, Uint32Array>>();
const unmasked = new Map<number, { survivors: string[]; sumSha256: string; revealers: number; droppedMaskKeys: number }>();
const left = new Map<number, { before: number; after: number }>();
const logger = pino({ level: 'error' }, pino.destination(2));
// 100 clients train in this one process (one thread), so a reply can wait minutes behind the others' training.
const transfer = { ackTimeoutMs: 900_000 };
const started = performance.now();
let last = started;
const lines: string[] = [];
const checks: boolean[] = [];

/** The exact check: the survivors' encodings summed mod 2^32 here hash to what the coordinator unmasked. */
function checkSum(round: number): string {
  const u = unmasked.get(round);
  const mine = encoded.get(round);
  encoded.delete(round);
  if (!u || !mine) return 'no unmasked sum';
  const missing = u.survivors.filter((n) => !mine.has(n));
  if (missing.length > 0) return `no encoding seen for ${missing.join(', ')}`;
  const sum = new Uint32Array(mine.get(u.survivors[0]!)!.length);
  for (const n of u.survivors) {
    const v = mine.get(n)!;
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i]! + v[i]!) >>> 0;
  }
  const equal = createHash('sha256').update(sum).digest('hex') === u.sumSha256;
  checks.push(equal);
  return `sum of ${u.survivors.length} survivors' encodings ${equal ? 'EQUALS' : 'DIFFERS FROM'} the unmasked sum (${u.revealers} revealed, ${u.droppedMaskKeys} mask keys rebuilt)`;
}

const coordinator = await Coordinator.start({
  strategy,
  initialWeights: readModelWeights(buildModel(spec, MNIST_FEATURES, seed)),
  rounds,
  seed,
  logger,
  secureAggregation: mode,
  ...(mode === 'secaggplus' && values.neighbours ? { secaggplus: { neighbours: Number(values.neighbours), ...(values.threshold ? { threshold: Number(values.threshold) } : {}) } } : {}),
  ...(privacy ? { privacy } : {}),
  maxRoundRetries: 0,
  transfer,
  roundTimeoutMs: 1_800_000,
  waitForClientsMs: 600_000,
  maxConnectionsPerMinute: 10_000,
  maxPendingHandshakes: 200,
  audit: {
    append: (type, entry) => {
      if (type === 'secaggplus-unmasked') unmasked.set(entry.round as number, entry as unknown as { survivors: string[]; sumSha256: string; revealers: number; droppedMaskKeys: number });
    },
  },
  onRound: (r) => {
    const now = performance.now();
    const fitted = r.fit?.outcomes.filter((o) => !('failure' in o) || o.failure === undefined).length ?? 0;
    const drops = left.get(r.round) ?? { before: 0, after: 0 };
    const spent = r.privacy ? `, epsilon ${r.privacy.epsilon.toFixed(3)} (z ${r.privacy.noiseMultiplier.toFixed(3)})` : '';
    const line = `round ${r.round}: test accuracy ${(100 * (r.central?.metrics.accuracy ?? 0)).toFixed(2)} %, ${fitted} updates (left before upload ${drops.before}, after ${drops.after})${spent}, ${((now - last) / 1000).toFixed(0)} s${mode === 'secaggplus' ? `; ${checkSum(r.round)}` : ''}`;
    last = now;
    lines.push(line);
    console.log(line);
  },
});
const identities = names.map(() => generateIdentity());
const roster = names.map((name, i) => ({ name, identityKey: identities[i]!.publicKey }));
const handles = shards.map((shard, i) =>
  startClient({
    url: coordinator.url,
    name: names[i]!,
    logger,
    identity: identities[i]!,
    coordinatorKey: coordinator.identity.publicKey,
    transfer,
    ...(mode === 'secaggplus' ? { security: { mode: 'secaggplus' as const, roster } } : {}),
    trainer: new OneAtATime(new TfjsTrainer({ model: buildModel(spec, MNIST_FEATURES, seed), train: tensors(shard), test: tensors(shard), loss: 'categoricalCrossentropy', seed: seed + i })),
    onEvent: (e) => {
      if (e.type !== 'left') return;
      const c = left.get(e.round) ?? { before: 0, after: 0 };
      if (e.step === 'before-upload') c.before++;
      else c.after++;
      left.set(e.round, c);
    },
    simulation: {
      leaveAt: schedule.leaveAt(names[i]!),
      onSecAggEncoded: (round, values) => {
        if (!encoded.has(round)) encoded.set(round, new Map());
        encoded.get(round)!.set(names[i]!, values);
      },
    },
  }),
);

let error: unknown;
await coordinator.run().catch((e: unknown) => (error = e));
const dp = privacy ? `, DP (epsilon ${epsilon}, delta ${delta}, C ${privacy.clipNorm}, z ${privacy.noiseMultiplier.toFixed(3)})` : '';
console.log(`\n2NN, ${mode}, ${clients} clients all in every round, drops ${100 * dropBefore} % before and ${100 * dropAfter} % after upload${dp}, B ${values.batch}, lr ${values.lr}, seed ${seed}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
if (mode === 'secaggplus') console.log(`exact-sum check: ${checks.filter(Boolean).length} of ${checks.length} rounds equal`);
if (error) console.log(`run failed: ${(error as Error).message.slice(0, 2000)}`);
await coordinator.close();
for (const h of handles) void h.stop();
process.exit(error || checks.some((c) => !c) ? 1 : 0);
