import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/coordinator/store/runStore.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { weightsHash } from '../../src/coordinator/weightsHash.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer } from '../helpers/linearTrainer.js';
import { silent } from '../helpers/silentLogger.js';

/**
 * The coordinator writes each round's model over its own global (no second model a round). At 100k+ parameters
 * over real sockets: by default the caller's initial weights are never written; adopted, they are trained in
 * place; either way the models, the clients' evaluations of each new global (re-encoded and re-hashed after the
 * step, or the clients would refuse it), and the stored checkpoints are bit-identical.
 */
const width = 100_000;
const bytes = (w: Weights) => Buffer.concat(w.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));

/** A deterministic regression problem over `width` features for hospital k. */
function data(k: number): { xs: number[][]; ys: number[] } {
  let s = 7 + k;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const xs = Array.from({ length: 6 }, () => Array.from({ length: width }, () => rnd() / 100));
  return { xs, ys: xs.map((x) => x[0]! - 2 * x[1]! + 0.5) };
}

const initial = (): Weights => [
  { name: 'w', shape: [width], data: Float32Array.from({ length: width }, (_, i) => Math.sin(i) / 10) },
  { name: 'b', shape: [1], data: Float32Array.of(0.25) },
];

let fed: TestFederation | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fed?.close();
  fed = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function run(weights: Weights, adopt: boolean) {
  fed = new TestFederation();
  const dir = mkdtempSync(join(tmpdir(), 'cohort-inplace-'));
  dirs.push(dir);
  const store = new RunStore(join(dir, 'run.db'));
  const centrallySeen: string[] = [];
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({
      minFitClients: 2,
      fit: { epochs: 1, batchSize: 3, learningRate: 0.5 },
      evaluateFn: async (round, w) => void centrallySeen.push(`${round}:${weightsHash(w)}`),
    }),
    initialWeights: weights,
    ...(adopt ? { adoptInitialWeights: true } : {}),
    rounds: 3,
    seed: 5,
    store,
    logger: silent,
  });
  for (const k of [0, 1]) {
    const d = data(k);
    fed.client(coordinator.url, `h${k}`, new LinearTrainer(d.xs, d.ys, `h${k}`), { logger: silent });
  }
  while (coordinator.clients.length < 2) await new Promise((r) => setTimeout(r, 20));
  const result = await coordinator.run();
  const checkpoint = store.checkpoint(coordinator.runId)!;
  // What each client should have reported for round r: its loss on round r's checkpointed model. A client handed a
  // stale payload (the old global's hash over the new values, or told to reuse what it holds) would report another.
  const expectedLosses: string[] = [];
  for (let round = 1; round <= 3; round++) {
    const model = store.checkpoint(coordinator.runId, round)!;
    expect(centrallySeen[round - 1]).toBe(`${round}:${model.modelSha256}`);
    const losses: string[] = [];
    for (const k of [0, 1]) {
      const d = data(k);
      const local = new LinearTrainer(d.xs, d.ys);
      local.setWeights(model.weights);
      losses.push(`h${k}:${(await local.evaluate({ round, batchSize: 8 })).loss}`);
    }
    expectedLosses.push(losses.sort().join(','));
  }
  store.close();
  const failures = result.history.flatMap((r) => [...r.fit.outcomes, ...(r.evaluate?.outcomes ?? [])].filter((o) => o.failure));
  const losses = result.history.map((r) => r.evaluate?.outcomes.map((o) => `${o.client}:${o.loss}`).sort().join(','));
  expect(losses).toEqual(expectedLosses);
  return { result, checkpoint, failures, losses, centrallySeen };
}

describe('the global written in place', () => {
  it('leaves the caller\'s initial weights alone by default, trains adopted ones in place, and both runs agree bit for bit', async () => {
    const mine = initial();
    const before = bytes(mine);
    const copied = await run(mine, false);
    expect(bytes(mine).equals(before)).toBe(true);
    expect(copied.failures).toEqual([]);
    expect(copied.result.history).toHaveLength(3);
    expect(bytes(copied.result.weights).equals(before)).toBe(false);
    // The stored checkpoint is the final model.
    expect(copied.checkpoint.round).toBe(3);
    expect(bytes(copied.checkpoint.weights).equals(bytes(copied.result.weights))).toBe(true);
    expect(copied.checkpoint.modelSha256).toBe(weightsHash(copied.result.weights));

    const handed = initial();
    const adopted = await run(handed, true);
    expect(adopted.failures).toEqual([]);
    // Trained in the caller's arrays...
    adopted.result.weights.forEach((t, k) => expect(t.data).toBe(handed[k]!.data));
    // ...to the same model, evaluated the same way by the clients and centrally each round, and checkpointed the same.
    expect(bytes(adopted.result.weights).equals(bytes(copied.result.weights))).toBe(true);
    expect(adopted.losses).toEqual(copied.losses);
    expect(adopted.centrallySeen).toEqual(copied.centrallySeen);
    expect(new Set(copied.centrallySeen.map((s) => s.split(':')[1])).size).toBe(3);
    expect(adopted.checkpoint.modelSha256).toBe(copied.checkpoint.modelSha256);
  }, 120_000);
});
