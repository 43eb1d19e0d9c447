import { describe, expect, it } from 'vitest';
import { FED_ADAGRAD_DEFAULTS, FedAdagrad, adagradSecondMoment } from '../../../src/coordinator/strategies/fedAdagrad.js';
import { expectClose, fit, flat, runRound, weights } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

describe('FedAdagrad (Reddi et al. 2021, Algorithm 2)', () => {
  it('v accumulates Delta^2 and never decreases', () => {
    expect(adagradSecondMoment(1.5625, 0.87890625, 0.99)).toBe(2.44140625);
    expect(adagradSecondMoment(2, 0, 0)).toBe(2);
  });

  it('follows the published update on hand-picked numbers', async () => {
    // beta1 = 0 (m_t = Delta_t), tau = 0.75 (v_{-1} = 0.5625), eta = 1; x0 = [1, 2].
    // Round 1, Delta = [1, -1]: v1 = 0.5625 + 1 = [1.5625, 1.5625], sqrt = 1.25
    //   step = [1, -1] / (1.25 + 0.75) = [0.5, -0.5]; x1 = [1.5, 1.5]
    // Round 2, Delta = [0.9375, 0]: v2 = [1.5625 + 0.87890625, 1.5625] = [2.44140625, 1.5625], sqrt = [1.5625, 1.25]
    //   step = [0.9375 / (1.5625 + 0.75), 0] = [0.40540541, 0]; x2 = [1.90540541, 1.5]
    const s = new FedAdagrad({ fit, tau: 0.75, eta: 1 });
    const r1 = await runRound(s, weights([1], [2]), [{ client: 'a', values: [1, -1] }], 1);
    expect(flat(r1.weights)).toEqual([1.5, 1.5]);
    const r2 = await runRound(s, r1.weights, [{ client: 'a', values: [0.9375, 0] }], 2);
    expectClose(flat(r2.weights), [1.90540541, 1.5]);
  });

  it('with beta1 > 0 the first moment is averaged too', async () => {
    // beta1 = 0.5, tau = 0.75, eta = 1, Delta = [1]: m1 = 0.5, v1 = 1.5625; step = 0.5 / 2 = 0.25
    const s = new FedAdagrad({ fit, beta1: 0.5, tau: 0.75, eta: 1 });
    expect(flat((await runRound(s, weights([0]), [{ client: 'a', values: [1] }])).weights)).toEqual([0.25]);
  });

  it('uses Flower\'s defaults: eta 0.1, tau 1e-9, beta1 0; its first step is eta * sign(Delta)', async () => {
    const s = new FedAdagrad({ fit });
    expect(s.hyperparameters).toEqual(FED_ADAGRAD_DEFAULTS);
    expect(s.name).toBe('fedadagrad');
    expect(modesFor(s.capabilities)).toEqual(['plain', 'secaggplus']);
    // v1 = 1e-18 + Delta^2, so step = 0.1 * Delta / (|Delta| + 1e-9) = [0.1, -0.1] to 1e-8
    const r = await runRound(s, weights([0, 0]), [{ client: 'a', values: [3, -0.5] }]);
    expectClose(flat(r.weights), [0.1, -0.1], 7);
  });
});
