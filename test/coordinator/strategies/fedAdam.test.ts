import { describe, expect, it } from 'vitest';
import { FED_ADAM_DEFAULTS, FedAdam, adamSecondMoment } from '../../../src/coordinator/strategies/fedAdam.js';
import { adaptiveStep, initialMoments } from '../../../src/coordinator/strategies/adaptiveFedOpt.js';
import { StrategyConfigError } from '../../../src/coordinator/strategies/fedAvg.js';
import { expectClose, fit, flat, runRound, weights } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

describe('FedAdam (Reddi et al. 2021, Algorithm 2)', () => {
  it('follows the published update exactly on hand-picked numbers', async () => {
    // beta1 = 0.5, beta2 = 0.75, tau = 2 (so v_{-1} = tau^2 = 4), eta = 1; x0 = [1, 2].
    // Round 1, Delta = [2, -2]: m1 = 0.5 * 0 + 0.5 * [2, -2] = [1, -1]
    //   v1 = 0.75 * 4 + 0.25 * 4 = [4, 4]; step = [1, -1] / (sqrt(4) + 2) = [0.25, -0.25]; x1 = [1.25, 1.75]
    // Round 2, Delta = [-2, 2]: m2 = 0.5 * [1, -1] + 0.5 * [-2, 2] = [-0.5, 0.5]
    //   v2 = 0.75 * 4 + 0.25 * 4 = [4, 4]; step = [-0.5, 0.5] / 4 = [-0.125, 0.125]; x2 = [1.125, 1.875]
    const s = new FedAdam({ fit, beta1: 0.5, beta2: 0.75, tau: 2, eta: 1 });
    const r1 = await runRound(s, weights([1], [2]), [{ client: 'a', values: [2, -2] }], 1);
    expect(flat(r1.weights)).toEqual([1.25, 1.75]);
    const r2 = await runRound(s, r1.weights, [{ client: 'a', values: [-2, 2] }], 2);
    expect(flat(r2.weights)).toEqual([1.125, 1.875]);
  });

  it('with the default hyperparameters (eta 0.1, tau 1e-9, beta1 0.9, beta2 0.99)', async () => {
    // Round 1: A (10) [1, 1] and B (30) [4, -2] give Delta = [3.25, -1.25].
    //   m1 = 0.1 * Delta = [0.325, -0.125]; v1 = 0.99 * 1e-18 + 0.01 * [10.5625, 1.5625] = [0.105625, 0.015625]
    //   sqrt(v1) = [0.325, 0.125], so step = 0.1 * m1 / (sqrt(v1) + 1e-9) = [0.1, -0.1] (to 1e-8): x1 = [1.1, 1.9]
    // Round 2: one client sends [1, 1]: m2 = 0.9 m1 + 0.1 [1, 1] = [0.3925, -0.0125]
    //   v2 = 0.99 v1 + 0.01 [1, 1] = [0.11456875, 0.02546875]; sqrt(v2) = [0.33848006, 0.15958932]
    //   step = 0.1 * [0.3925 / 0.33848006, -0.0125 / 0.15958932] = [0.11595956, -0.00783260]
    //   x2 = [1.21595956, 1.89216740]
    const s = new FedAdam({ fit });
    const r1 = await runRound(s, weights([1], [2]), [
      { client: 'A', weight: 10, values: [1, 1] },
      { client: 'B', weight: 30, values: [4, -2] },
    ], 1);
    expectClose(flat(r1.weights), [1.1, 1.9]);
    const r2 = await runRound(s, r1.weights, [{ client: 'C', weight: 5, values: [1, 1] }], 2);
    expectClose(flat(r2.weights), [1.21595956, 1.8921674]);
  });

  it('adaptiveStep is pure and returns the moments it used', () => {
    const h = { eta: 1, tau: 2, beta1: 0.5, beta2: 0.75 };
    const before = initialMoments(2, 2);
    expect(Array.from(before.v)).toEqual([4, 4]);
    const { moments, step } = adaptiveStep(before, Float32Array.from([2, -2]), h, adamSecondMoment);
    expect(Array.from(moments.m)).toEqual([1, -1]);
    expect(Array.from(moments.v)).toEqual([4, 4]);
    expect(Array.from(step)).toEqual([0.25, -0.25]);
    expect(Array.from(before.m)).toEqual([0, 0]);
    expect(() => adaptiveStep(before, Float32Array.from([1, 2, 3]), h, adamSecondMoment)).toThrow(/moments hold 2 and 2 values but the update has 3/);
  });

  it('uses Flower\'s defaults; plain and secagg, not CKKS', () => {
    const s = new FedAdam({ fit });
    expect(s.hyperparameters).toEqual(FED_ADAM_DEFAULTS);
    expect(FED_ADAM_DEFAULTS).toEqual({ eta: 0.1, tau: 1e-9, beta1: 0.9, beta2: 0.99 });
    expect(s.name).toBe('fedadam');
    expect(modesFor(s.capabilities)).toEqual(['plain', 'secaggplus']);
  });

  it('keeps the model and its moments when no update arrived', () => {
    const s = new FedAdam({ fit });
    const global = weights([1]);
    expect(s.aggregateFit(1, global, { mean: undefined, totalWeight: 0, contributors: [] }, [], []).weights).toBe(global);
    expect(s.state()).toEqual({ strategy: 'fedadam', m: null, v: null });
  });

  it('validates its hyperparameters', () => {
    const cases: [Record<string, number>, string][] = [
      [{ eta: 0 }, 'eta must be a positive finite number, got 0'],
      [{ eta: -1 }, 'eta must be a positive finite number, got -1'],
      [{ tau: 0 }, 'tau must be a positive finite number, got 0'],
      [{ tau: Infinity }, 'tau must be a positive finite number, got Infinity'],
      [{ beta1: 1 }, 'beta1 must be within [0, 1), got 1'],
      [{ beta2: -0.5 }, 'beta2 must be within [0, 1), got -0.5'],
      [{ beta2: NaN }, 'beta2 must be within [0, 1), got NaN'],
    ];
    for (const [bad, message] of cases) {
      expect(() => new FedAdam({ fit, ...bad })).toThrow(StrategyConfigError);
      expect(() => new FedAdam({ fit, ...bad })).toThrow(message);
    }
  });
});
