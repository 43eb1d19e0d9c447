import { describe, expect, it } from 'vitest';
import { scaffoldClientUpdate, scaffoldGradientCorrection } from '../../src/client/scaffoldClient.js';
import { scaffoldSpec } from '../../src/protocol/scaffoldWire.js';
import { specOf } from '../../src/protocol/tensors.js';
import { expectClose, flat, weights } from '../coordinator/strategies/harness.js';

describe('SCAFFOLD, client side (option II)', () => {
  it('computes c_i+ = c_i - c + (x - y) / (K eta_l) and the upload [y - x; c_i+ - c_i] (hand computation)', () => {
    // x = [1, 2], y = [0.5, 2.5], K = 5, eta_l = 0.1 (1 / (K eta_l) = 2), c = [0.2, -0.4], c_i = [0.1, 0.1]
    // delta_y = [-0.5, 0.5]; c_i+ = [0.1 - 0.2 + 2 * 0.5, 0.1 + 0.4 + 2 * (-0.5)] = [0.9, -0.5]
    // delta_c = c_i+ - c_i = [0.8, -0.6]
    const { upload, clientControl } = scaffoldClientUpdate({
      global: weights([1], [2]),
      local: weights([0.5], [2.5]),
      serverControl: weights([0.2], [-0.4]),
      clientControl: weights([0.1], [0.1]),
      steps: 5,
      learningRate: 0.1,
    });
    expect(specOf(upload)).toEqual(scaffoldSpec(specOf(weights([1], [2]))));
    expectClose(flat(upload), [-0.5, 0.5, 0.8, -0.6]);
    expectClose(flat(clientControl), [0.9, -0.5]);
  });

  it('the gradient correction is c - c_i', () => {
    expectClose(flat(scaffoldGradientCorrection(weights([0.2, -0.4]), weights([0.1, 0.1]))), [0.1, -0.5]);
    expect(() => scaffoldGradientCorrection(weights([1]), weights([1, 2]))).toThrow(/control variates differ/);
  });

  it('refuses K < 1 or a learning rate that is not positive (no division by zero)', () => {
    const round = { global: weights([1]), local: weights([1]), serverControl: weights([0]), clientControl: weights([0]) };
    expect(() => scaffoldClientUpdate({ ...round, steps: 0, learningRate: 0.1 })).toThrow('steps (K) must be an integer >= 1, got 0');
    expect(() => scaffoldClientUpdate({ ...round, steps: 1, learningRate: 0 })).toThrow('the local learning rate must be positive, got 0');
  });

});
