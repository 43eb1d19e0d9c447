import { describe, expect, it } from 'vitest';
import { FedAvgM, serverMomentumStep } from '../../../src/coordinator/strategies/fedAvgM.js';
import { StrategyConfigError } from '../../../src/coordinator/strategies/fedAvg.js';
import { StreamingMean } from '../../../src/coordinator/aggregation/streamingMean.js';
import { fit, flat, runRound, weights } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

// A (10 examples) sends [1, 1], B (30) sends [4, -2]: mean delta = (10 [1, 1] + 30 [4, -2]) / 40 = [3.25, -1.25].
const twoClients = [
  { client: 'A', weight: 10, values: [1, 1], metrics: { loss: 1 } },
  { client: 'B', weight: 30, values: [4, -2], metrics: { loss: 3 } },
];

describe('FedAvgM (Hsu et al. 2019)', () => {
  it('round 1 is FedAvg: v1 = 0.5 * 0 + delta', async () => {
    // v1 = [3.25, -1.25]; w1 = [1, 2] + 1 * v1 = [4.25, 0.75]
    const s = new FedAvgM({ fit, serverMomentum: 0.5 });
    const r1 = await runRound(s, weights([1], [2]), twoClients);
    expect(flat(r1.weights)).toEqual([4.25, 0.75]);
    expect(r1.metrics).toEqual({ loss: 2.5 }); // (10 * 1 + 30 * 3) / 40
  });

  it('round 2 adds beta times the previous momentum', async () => {
    // Round 2 from w1 = [4.25, 0.75] with the same uploads: v2 = 0.5 * [3.25, -1.25] + [3.25, -1.25] = [4.875, -1.875]
    // w2 = [4.25 + 4.875, 0.75 - 1.875] = [9.125, -1.125]
    const s = new FedAvgM({ fit, serverMomentum: 0.5 });
    const r1 = await runRound(s, weights([1], [2]), twoClients, 1);
    const r2 = await runRound(s, r1.weights, twoClients, 2);
    expect(flat(r2.weights)).toEqual([9.125, -1.125]);
  });

  it('scales the momentum by serverLearningRate', async () => {
    // lr 0.5: w1 = [1 + 0.5 * 3.25, 2 - 0.5 * 1.25] = [2.625, 1.375]; v2 = [4.875, -1.875]; w2 = [2.625 + 2.4375, 1.375 - 0.9375] = [5.0625, 0.4375]
    const s = new FedAvgM({ fit, serverMomentum: 0.5, serverLearningRate: 0.5 });
    const r1 = await runRound(s, weights([1], [2]), twoClients, 1);
    expect(flat(r1.weights)).toEqual([2.625, 1.375]);
    const r2 = await runRound(s, r1.weights, twoClients, 2);
    expect(flat(r2.weights)).toEqual([5.0625, 0.4375]);
  });

  it('keeps the model and the momentum when no update arrived', async () => {
    const s = new FedAvgM({ fit, serverMomentum: 0.5 });
    const global = weights([1], [2]);
    await runRound(s, global, twoClients, 1);
    const before = s.state();
    const next = s.aggregateFit(2, global, { mean: undefined, totalWeight: 0, contributors: [] }, [], []);
    expect(next.weights).toBe(global);
    expect(s.state()).toEqual(before);
  });

  it('serverMomentumStep is pure: v = beta v + delta, inputs untouched', () => {
    // 0.25 * [4, -8] + [1, 1] = [2, -1]
    const v = Float32Array.from([4, -8]);
    const d = Float32Array.from([1, 1]);
    expect(Array.from(serverMomentumStep(v, d, 0.25))).toEqual([2, -1]);
    expect(Array.from(v)).toEqual([4, -8]);
    expect(Array.from(serverMomentumStep(undefined, d, 0.25))).toEqual([1, 1]);
    expect(() => serverMomentumStep(Float32Array.from([1]), d, 0.5)).toThrow(/momentum holds 1 values but the update has 2/);
  });

  it('defaults: momentum 0.9, learning rate 1; every mode, under CKKS as a step the clients apply', () => {
    const s = new FedAvgM({ fit, serverLearningRate: 0.5 });
    expect(s.serverMomentum).toBe(0.9);
    expect(s.name).toBe('fedavgm');
    expect(modesFor(s.capabilities)).toEqual(['plain', 'ckks', 'secaggplus']);
    expect(s.capabilities.linearStep).toEqual({ serverLearningRate: 0.5, serverMomentum: 0.9 });
  });

  it('aggregates through the `aggregator` option when given one (a DP wrapper composes)', async () => {
    let made = 0;
    const s = new FedAvgM({ fit, serverMomentum: 0.5, aggregator: () => (made++, new StreamingMean()) });
    expect(flat((await runRound(s, weights([1], [2]), twoClients)).weights)).toEqual([4.25, 0.75]);
    expect(made).toBe(1);
  });

  it('refuses a momentum outside [0, 1)', () => {
    for (const m of [1, -0.1, NaN, 2]) {
      expect(() => new FedAvgM({ fit, serverMomentum: m })).toThrow(StrategyConfigError);
      expect(() => new FedAvgM({ fit, serverMomentum: m })).toThrow(`serverMomentum must be within [0, 1), got ${m}`);
    }
    expect(() => new FedAvgM({ fit, serverMomentum: 0 })).not.toThrow();
  });
});
