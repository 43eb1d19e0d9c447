import { describe, expect, it } from 'vitest';
import { adamSecondMoment } from '../../../src/coordinator/strategies/fedAdam.js';
import { FED_YOGI_DEFAULTS, FedYogi, yogiSecondMoment } from '../../../src/coordinator/strategies/fedYogi.js';
import { expectClose, fit, flat, runRound, weights } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

describe('FedYogi (Reddi et al. 2021, Algorithm 2)', () => {
  it('v moves towards Delta^2 by (1 - beta2) Delta^2: up, still, or down', () => {
    // v = 4, beta2 = 0.75: Delta^2 = 9 > v: 4 + 0.25 * 9 = 6.25; Delta^2 = 4 = v: 4; Delta^2 = 1 < v: 4 - 0.25 = 3.75
    expect(yogiSecondMoment(4, 9, 0.75)).toBe(6.25);
    expect(yogiSecondMoment(4, 4, 0.75)).toBe(4);
    expect(yogiSecondMoment(4, 1, 0.75)).toBe(3.75);
    // Adam would give 0.75 * 4 + 0.25 * 9 = 5.25 and 0.75 * 4 + 0.25 * 1 = 3.25.
    expect(adamSecondMoment(4, 9, 0.75)).toBe(5.25);
    expect(adamSecondMoment(4, 1, 0.75)).toBe(3.25);
  });

  it('follows the published update on hand-picked numbers', async () => {
    // beta1 = 0.5, beta2 = 0.75, tau = 2 (v_{-1} = 4), eta = 1; x0 = [1, 2].
    // Round 1, Delta = [3, 2]: Delta^2 = [9, 4]; sign(4 - 9) = -1, sign(4 - 4) = 0
    //   v1 = [4 + 0.25 * 9, 4] = [6.25, 4]; m1 = 0.5 * [3, 2] = [1.5, 1]
    //   step = [1.5 / (2.5 + 2), 1 / (2 + 2)] = [1/3, 0.25]; x1 = [4/3, 2.25]
    // Round 2, Delta = [1, 0]: sign(6.25 - 1) = +1: v2 = [6.25 - 0.25 * 1, 4 - 0] = [6, 4]
    //   m2 = 0.5 * [1.5, 1] + 0.5 * [1, 0] = [1.25, 0.5]
    //   step = [1.25 / (sqrt(6) + 2), 0.5 / 4] = [1.25 / 4.44948974, 0.125] = [0.28093109, 0.125]
    //   x2 = [1.33333333 + 0.28093109, 2.375] = [1.61426442, 2.375]
    const s = new FedYogi({ fit, beta1: 0.5, beta2: 0.75, tau: 2, eta: 1 });
    const r1 = await runRound(s, weights([1], [2]), [{ client: 'a', values: [3, 2] }], 1);
    expectClose(flat(r1.weights), [4 / 3, 2.25]);
    const r2 = await runRound(s, r1.weights, [{ client: 'a', values: [1, 0] }], 2);
    expectClose(flat(r2.weights), [1.61426442, 2.375]);
  });

  it('uses Flower\'s defaults (eta 1e-2, tau 1e-3, beta1 0.9, beta2 0.99)', async () => {
    const s = new FedYogi({ fit });
    expect(s.hyperparameters).toEqual(FED_YOGI_DEFAULTS);
    expect(FED_YOGI_DEFAULTS).toEqual({ eta: 0.01, tau: 0.001, beta1: 0.9, beta2: 0.99 });
    expect(s.name).toBe('fedyogi');
    expect(modesFor(s.capabilities)).toEqual(['plain', 'secaggplus']);
    // Delta = [1]: m1 = 0.1; v1 = 1e-6 - 0.01 * 1 * sign(1e-6 - 1) = 0.010001; sqrt = 0.10000500
    // step = 0.01 * 0.1 / (0.100005 + 0.001) = 0.00990050; x1 = 0.00990050
    const r = await runRound(s, weights([0]), [{ client: 'a', values: [1] }]);
    expectClose(flat(r.weights), [0.0099005], 7);
  });
});
