import { afterEach, describe, expect, it } from 'vitest';
import type { CorrectedFitOutcome, FitConfig, Trainer } from '../../src/client/trainer.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { Scaffold } from '../../src/coordinator/strategies/scaffold.js';
import { splitScaffold } from '../../src/protocol/scaffoldWire.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearZeros } from '../helpers/linearTrainer.js';
import { silent } from '../helpers/silentLogger.js';

let fed: TestFederation;
afterEach(async () => fed.close());

/** A model [w0, w1, b] as one flat vector, in float64, for the independent reimplementation below. */
type Vec = number[];
interface Data {
  readonly xs: number[][];
  readonly ys: number[];
}

/** n points with x scaled per feature and y = coef . [x, 1]: clients differ in both (non-IID). */
function skewed(seed: number, scale: [number, number], coef: [number, number, number], n = 16): Data {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const xs = Array.from({ length: n }, () => [scale[0] * rnd(), scale[1] * rnd()]);
  return { xs, ys: xs.map(([a, b]) => coef[0] * a! + coef[1] * b! + coef[2]) };
}

const datasets: Data[] = [skewed(1, [3, 0.3], [1, 2, 0.5]), skewed(2, [0.3, 3], [-1, 1, -0.5]), skewed(3, [1, 1], [2, -3, 1])];

function gradient(d: Data, m: Vec): Vec {
  const g = [0, 0, 0];
  d.xs.forEach((x, i) => {
    const e = x[0]! * m[0]! + x[1]! * m[1]! + m[2]! - d.ys[i]!;
    g[0]! += (2 * e * x[0]!) / d.xs.length;
    g[1]! += (2 * e * x[1]!) / d.xs.length;
    g[2]! += (2 * e) / d.xs.length;
  });
  return g;
}

/** The federation's objective: the mean of the clients' MSEs (equal sizes, so also the pooled MSE). */
const federatedLoss = (m: Vec) => datasets.reduce((s, d) => s + d.xs.reduce((t, x, i) => t + (x[0]! * m[0]! + x[1]! * m[1]! + m[2]! - d.ys[i]!) ** 2, 0) / d.xs.length, 0) / datasets.length;

/** K full-batch GD steps from x with a constant correction: what LinearTrainer.fitWithCorrection does. */
function localSteps(d: Data, x: Vec, correction: Vec, K: number, lr: number): Vec {
  let y = [...x];
  for (let k = 0; k < K; k++) {
    const g = gradient(d, y);
    y = y.map((v, j) => v - lr * (g[j]! + correction[j]!));
  }
  return y;
}

/**
 * SCAFFOLD, Algorithm 1 with option II, written out again from the paper (every client in every round, eta_g = 1):
 *   y_i = K steps of y <- y - eta_l (g_i(y) + c - c_i);  c_i+ = c_i - c + (x - y_i) / (K eta_l)
 *   x <- x + mean(y_i - x);  c <- c + (|S| / N) mean(c_i+ - c_i)
 */
function referenceScaffold(rounds: number, K: number, lr: number, N: number) {
  let x = [0, 0, 0];
  let c = [0, 0, 0];
  let ci = datasets.map(() => [0, 0, 0]);
  const history: { x: Vec; c: Vec; ci: Vec[] }[] = [];
  for (let r = 0; r < rounds; r++) {
    const ys = datasets.map((d, i) => localSteps(d, x, c.map((v, j) => v - ci[i]![j]!), K, lr));
    const next = ys.map((y, i) => ci[i]!.map((v, j) => v - c[j]! + (x[j]! - y[j]!) / (K * lr)));
    const S = datasets.length;
    c = c.map((v, j) => v + (S / N) * (next.reduce((s, n, i) => s + n[j]! - ci[i]![j]!, 0) / S));
    x = x.map((v, j) => v + ys.reduce((s, y) => s + y[j]! - v, 0) / S);
    ci = next;
    history.push({ x, c, ci });
  }
  return history;
}

const flat = (w: Weights): Vec => w.flatMap((t) => Array.from(t.data));
const copy = (w: Weights): Weights => w.map((t) => ({ name: t.name, shape: [...t.shape], data: Float32Array.from(t.data) }));

function expectNear(actual: Vec, expected: Vec, digits = 4): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i]!, digits));
}

/** Records what the client node hands its trainer: every setWeights and every round's correction c - c_i. */
class RecordingTrainer extends LinearTrainer {
  readonly received: Weights[] = [];
  readonly corrections: Weights[] = [];

  override setWeights(weights: Weights): void {
    this.received.push(copy(weights));
    super.setWeights(weights);
  }

  override async fitWithCorrection(config: FitConfig, correction: Weights): Promise<CorrectedFitOutcome> {
    this.corrections.push(copy(correction));
    return super.fitWithCorrection(config, correction);
  }
}

const trainersFor = () => datasets.map((d, i) => new RecordingTrainer(d.xs, d.ys, `h${i}`));

describe('SCAFFOLD over loopback sockets (plain mode)', () => {
  it("after round 1, each client's c_i and the server's c are Algorithm 1's, and round 2 trains with c - c_i", async () => {
    // N = 4 with three clients connected: c moves by |S| / N = 3 / 4 of the mean delta_c.
    const K = 5;
    const lr = 0.05;
    const strategy = new Scaffold({ minFitClients: 3, totalClients: 4, fit: { epochs: K, batchSize: 16, learningRate: lr } });
    let serverControl: Vec | undefined;
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy,
      initialWeights: linearZeros(),
      rounds: 2,
      onRound: (record) => {
        if (record.round === 1) serverControl = flat(splitScaffold(strategy.fitPayload(linearZeros())).control);
      },
    });
    const trainers = trainersFor();
    const handles = trainers.map((t) => fed.client(coordinator.url, t.name, t, { logger: silent }));
    const result = await coordinator.run();
    expect(result.history.map((r) => r.fit.outcomes.filter((o) => !o.failure).length)).toEqual([3, 3]);

    const [round1, round2] = referenceScaffold(2, K, lr, 4);
    expectNear(serverControl!, round1!.c);
    expect(round1!.c.some((v) => Math.abs(v) > 0.1)).toBe(true); // not trivially zero
    trainers.forEach((t, i) => {
      // Round 1 trains with c - c_i = 0; round 2 with c1 - c_i1, which pins c_i1 given c1.
      expectNear(flat(t.corrections[0]!), [0, 0, 0], 6);
      expectNear(flat(t.corrections[1]!), round1!.c.map((c, j) => c - round1!.ci[i]![j]!));
    });
    expectNear(flat(result.weights), round2!.x);

    // Every setWeights (fit and evaluate) got the plain model, never [x; c]; the node's last global too.
    for (const t of trainers) for (const w of t.received) expect(w.map((x) => x.name)).toEqual(['w', 'b']);
    expect(handles[0]!.globalWeights()!.map((x) => x.name)).toEqual(['w', 'b']);
  });

  it('on non-IID clients, beats FedAvg after 5 rounds and matches an independent reimplementation', async () => {
    // K = 20 local steps: FedAvg drifts to a biased fixed point (loss ~2.87 here), SCAFFOLD corrects it (~2.14;
    // the optimum is ~2.11). Evaluation is skipped: only the fit rounds matter.
    const K = 20;
    const lr = 0.05;
    const rounds = 5;
    const fit = { epochs: K, batchSize: 16, learningRate: lr };
    const run = async (strategy: Scaffold | FedAvg) => {
      fed = new TestFederation();
      const coordinator = await fed.coordinator({ strategy, initialWeights: linearZeros(), rounds });
      for (const t of trainersFor()) fed.client(coordinator.url, t.name, t, { logger: silent });
      const result = await coordinator.run();
      await fed.close();
      return flat(result.weights);
    };
    const scaffold = await run(new Scaffold({ minFitClients: 3, totalClients: 3, fractionEvaluate: 0, fit }));
    const fedAvg = await run(new FedAvg({ minFitClients: 3, fractionEvaluate: 0, fit }));
    expectNear(scaffold, referenceScaffold(rounds, K, lr, 3).at(-1)!.x, 3);
    expect(federatedLoss(scaffold)).toBeLessThan(2.2);
    expect(federatedLoss(fedAvg)).toBeGreaterThan(2.8);
  });

  it("fails a client whose trainer lacks the seam, saying why, and the round goes on with the others", async () => {
    const strategy = new Scaffold({ minFitClients: 1, minAvailableClients: 2, totalClients: 2, fractionEvaluate: 0, fit: { epochs: 2, batchSize: 16, learningRate: 0.05 } });
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy, initialWeights: linearZeros(), rounds: 1 });
    const d = datasets[0]!;
    const capable = new LinearTrainer(d.xs, d.ys);
    const inner = new LinearTrainer(d.xs, d.ys);
    // The Trainer interface without fitWithCorrection (a plain custom loop).
    const plain: Trainer = { describe: () => inner.describe(), getWeights: () => inner.getWeights(), setWeights: (w) => inner.setWeights(w), fit: (c) => inner.fit(c), evaluate: (c) => inner.evaluate(c) };
    fed.client(coordinator.url, 'capable', capable, { logger: silent });
    fed.client(coordinator.url, 'plain', plain, { logger: silent });
    const result = await coordinator.run();
    const outcomes = result.history[0]!.fit.outcomes;
    expect(outcomes.find((o) => o.client === 'capable')!.failure).toBeUndefined();
    expect(outcomes.find((o) => o.client === 'plain')!.failure).toEqual({ reason: 'client-error', detail: "this client's trainer cannot take SCAFFOLD tasks: it does not implement fitWithCorrection" });
  });
});
