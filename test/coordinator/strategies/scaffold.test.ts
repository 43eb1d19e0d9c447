import { describe, expect, it } from 'vitest';
import { StreamingMean } from '../../../src/coordinator/aggregation/streamingMean.js';
import { FedAvg, StrategyConfigError } from '../../../src/coordinator/strategies/fedAvg.js';
import { Scaffold, scaffoldServerUpdate } from '../../../src/coordinator/strategies/scaffold.js';
import { modesFor } from '../../../src/modes/index.js';
import { scaffoldClientUpdate, scaffoldGradientCorrection, zeroControl } from '../../../src/client/scaffoldClient.js';
import { SCAFFOLD_CONTROL_PREFIX, SCAFFOLD_EXTRA_KEY, scaffoldSpec, splitScaffold } from '../../../src/protocol/scaffoldWire.js';
import { createSeededRng } from '../../../src/protocol/seededRng.js';
import { specOf, type Weights } from '../../../src/protocol/tensors.js';
import { clients, fit, flat, reportsOf, runRound, weights } from './harness.js';

describe('SCAFFOLD (Karimireddy et al. 2020), server side', () => {
  it('uploads and fit downloads are the model twice: [delta_y; delta_c] and [x; c]', () => {
    const s = new Scaffold({ fit, totalClients: 4 });
    const global = weights([1], [2]);
    expect(s.uploadSpec(specOf(global))).toEqual([
      { name: 't0', shape: [1] },
      { name: 't1', shape: [1] },
      { name: `${SCAFFOLD_CONTROL_PREFIX}t0`, shape: [1] },
      { name: `${SCAFFOLD_CONTROL_PREFIX}t1`, shape: [1] },
    ]);
    const payload = s.fitPayload(global);
    expect(specOf(payload)).toEqual(scaffoldSpec(specOf(global)));
    expect(flat(payload)).toEqual([1, 2, 0, 0]); // c = 0 before round 1
  });

  it('applies x += eta_g mean(delta_y) and c += (|S| / N) mean(delta_c), uniform over clients (hand computation)', async () => {
    // N = 4. Round 1: A (10 examples) uploads [1, 2 | 0.5, -1], B (30) uploads [3, -2 | 1.5, 1].
    //   Uniform mean: [(1 + 3) / 2, (2 - 2) / 2 | (0.5 + 1.5) / 2, (-1 + 1) / 2] = [2, 0 | 1, 0]
    //   x1 = [1, 2] + 1 * [2, 0] = [3, 2]; c1 = 0 + (2 / 4) * [1, 0] = [0.5, 0]
    // Round 2: C alone uploads [0, 1 | -1, 2]: x2 = [3, 3]; c2 = [0.5, 0] + (1 / 4) * [-1, 2] = [0.25, 0.5]
    const s = new Scaffold({ fit, totalClients: 4, minFitClients: 1 });
    const r1 = await runRound(s, weights([1], [2]), [
      { client: 'A', weight: 10, values: [1, 2, 0.5, -1] },
      { client: 'B', weight: 30, values: [3, -2, 1.5, 1] },
    ], 1);
    expect(flat(r1.weights)).toEqual([3, 2]);
    expect(flat(s.fitPayload(r1.weights))).toEqual([3, 2, 0.5, 0]);
    const r2 = await runRound(s, r1.weights, [{ client: 'C', values: [0, 1, -1, 2] }], 2);
    expect(flat(r2.weights)).toEqual([3, 3]);
    expect(flat(s.fitPayload(r2.weights))).toEqual([3, 3, 0.25, 0.5]);
  });

  it('serverLearningRate is eta_g: it scales the model step, not the control variate', async () => {
    // x1 = [1, 2] + 0.5 * [2, 0] = [2, 2]; c1 = [0.5, 0] as before
    const s = new Scaffold({ fit, totalClients: 4, serverLearningRate: 0.5 });
    const r1 = await runRound(s, weights([1], [2]), [
      { client: 'A', values: [1, 2, 0.5, -1] },
      { client: 'B', values: [3, -2, 1.5, 1] },
    ]);
    expect(flat(s.fitPayload(r1.weights))).toEqual([2, 2, 0.5, 0]);
  });

  it('scaffoldServerUpdate is pure and checks its inputs', () => {
    const c = Float32Array.from([1, 1]);
    const { modelDelta, control } = scaffoldServerUpdate(c, Float32Array.from([2, 4, 8, -8]), 1, 2);
    expect(Array.from(modelDelta)).toEqual([2, 4]);
    expect(Array.from(control)).toEqual([5, -3]); // [1, 1] + (1 / 2) [8, -8]
    expect(Array.from(c)).toEqual([1, 1]);
    expect(() => scaffoldServerUpdate(undefined, new Float32Array(3), 1, 2)).toThrow(/an even number of values, got 3/);
    expect(() => scaffoldServerUpdate(c, new Float32Array(6), 1, 2)).toThrow(/control variate holds 2 values but the model has 3/);
    expect(() => scaffoldServerUpdate(c, new Float32Array(4), 3, 2)).toThrow('SCAFFOLD needs 1 <= |S| <= N, got |S| = 3, N = 2');
  });

  it('tells clients they are in a SCAFFOLD round, and refuses more eligible clients than N', () => {
    const s = new Scaffold({ fit, totalClients: 3 });
    for (const t of s.configureFit(1, clients(3), createSeededRng(1))) expect(t.instructions.extra).toEqual({ [SCAFFOLD_EXTRA_KEY]: true });
    expect(() => s.configureFit(1, clients(4), createSeededRng(1))).toThrow(StrategyConfigError);
    expect(() => s.configureFit(1, clients(4), createSeededRng(1))).toThrow(
      'SCAFFOLD was configured for totalClients N = 3, but 4 clients are eligible: set totalClients to the federation\'s size',
    );
  });

  it('says how to fix an aggregator bound to the model instead of the upload spec', async () => {
    const s = new Scaffold({ fit, totalClients: 2 });
    const global = weights([1, 2]);
    const aggregator = s.createAggregator();
    aggregator.bind(specOf(global));
    const round = aggregator.begin(1);
    const sink = await round.accept('a', 1);
    sink.write(0, Float32Array.from([1, 1]));
    sink.commit();
    expect(() => s.aggregateFit(1, global, round.finish(), reportsOf([{ client: 'a', values: [1, 1] }]), [])).toThrow(
      'SCAFFOLD aggregates [delta_y; delta_c], 4 values for this model, but the aggregate has 2: bind its aggregator to uploadSpec(model)',
    );
  });

  it('refuses the aggregator option', () => {
    expect(() => new Scaffold({ fit, totalClients: 2, aggregator: () => new StreamingMean() })).toThrow(StrategyConfigError);
    expect(() => new Scaffold({ fit, totalClients: 2, aggregator: () => new StreamingMean() })).toThrow(/Scaffold does not take the aggregator option/);
  });

  it('declares its different fit layout as a capability (payload), and FedAvg has none', () => {
    const s = new Scaffold({ fit, totalClients: 2 });
    const shape = s.capabilities.payload!;
    expect(shape.uploadSpec([{ name: 't0', shape: [2] }])).toEqual(s.uploadSpec([{ name: 't0', shape: [2] }]));
    expect(flat(shape.fitPayload(weights([1, 2])))).toEqual([1, 2, 0, 0]);
    expect(new FedAvg({ fit }).capabilities.payload).toBeUndefined();
  });

  it('is plain-only and validates N', () => {
    expect(modesFor(new Scaffold({ fit, totalClients: 2 }).capabilities)).toEqual(['plain']);
    expect(() => new Scaffold({ fit, totalClients: 0 })).toThrow('totalClients (N) must be an integer >= 1, got 0');
    expect(() => new Scaffold({ fit, totalClients: 2.5 })).toThrow('totalClients (N) must be an integer >= 1, got 2.5');
    expect(() => new Scaffold({ fit, totalClients: 2, minFitClients: 3, minAvailableClients: 3 })).toThrow('totalClients (2) must be at least minFitClients (3)');
  });
});

describe('SCAFFOLD end to end on two quadratic clients: it removes client drift', () => {
  // f_i(w) = h_i / 2 (w - a_i)^2 with h = [1, 10], a = [0, 1]: the optimum of the sum is 10 / 11.
  // K = 10 local GD steps at eta_l = 0.05. FedAvg's fixed point is biased towards the client that moves
  // most per round: sum_i q_i a_i / sum_i q_i with q_i = 1 - (1 - eta_l h_i)^K = [0.4013, 0.9990] -> 0.7135.
  const h = [1, 10];
  const a = [0, 1];
  const K = 10;
  const lr = 0.05;
  const optimum = 10 / 11;

  function train(i: number, x: number, correction: number): number {
    let y = x;
    for (let k = 0; k < K; k++) y -= lr * (h[i]! * (y - a[i]!) + correction);
    return y;
  }

  it('FedAvg settles near 0.7135, not at the optimum', async () => {
    const s = new FedAvg({ fit });
    let global: Weights = weights([0]);
    for (let round = 1; round <= 60; round++) {
      const uploads = [0, 1].map((i) => ({ client: `c${i}`, values: [train(i, flat(global)[0]!, 0) - flat(global)[0]!] }));
      global = (await runRound(s, global, uploads, round)).weights;
    }
    expect(flat(global)[0]).toBeCloseTo(0.99902 / 1.40028, 3);
  });

  it('SCAFFOLD (server strategy + client helpers, through the wire layout) reaches 10 / 11', async () => {
    const s = new Scaffold({ fit: { ...fit, learningRate: lr }, totalClients: 2 });
    let global: Weights = weights([0]);
    const clientControls: Weights[] = [zeroControl(global), zeroControl(global)];
    for (let round = 1; round <= 60; round++) {
      const { first: x, control: c } = splitScaffold(s.fitPayload(global));
      const uploads = [0, 1].map((i) => {
        const correction = flat(scaffoldGradientCorrection(c, clientControls[i]!))[0]!;
        const y = train(i, flat(x)[0]!, correction);
        const out = scaffoldClientUpdate({ global: x, local: weights([y]), serverControl: c, clientControl: clientControls[i]!, steps: K, learningRate: lr });
        clientControls[i] = out.clientControl;
        return { client: `c${i}`, values: flat(out.upload) };
      });
      global = (await runRound(s, global, uploads, round)).weights;
    }
    expect(flat(global)[0]).toBeCloseTo(optimum, 5);
  });
});
