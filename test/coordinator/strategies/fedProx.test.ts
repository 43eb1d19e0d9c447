import { describe, expect, it } from 'vitest';
import { FedAvg, StrategyConfigError } from '../../../src/coordinator/strategies/fedAvg.js';
import { FedProx, PROXIMAL_MU_KEY } from '../../../src/coordinator/strategies/fedProx.js';
import { proximalGradientTerm, proximalPenalty } from '../../../src/coordinator/strategies/proximalTerm.js';
import { createSeededRng } from '../../../src/protocol/seededRng.js';
import { clients, fit, flat, runRound, weights } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

describe('FedProx (Li et al. 2020)', () => {
  it('tells every selected client mu through FitInstructions.extra.proximalMu, keeping other extras', () => {
    const base = { ...fit, extra: { note: 'x' } };
    const s = new FedProx({ fit: base, proximalMu: 0.01, fractionFit: 0.5 });
    const tasks = s.configureFit(1, clients(4), createSeededRng(1));
    expect(tasks).toHaveLength(2);
    for (const t of tasks) expect(t.instructions).toEqual({ ...fit, extra: { note: 'x', [PROXIMAL_MU_KEY]: 0.01 } });
    expect(PROXIMAL_MU_KEY).toBe('proximalMu');
    expect(base).toEqual({ ...fit, extra: { note: 'x' } }); // the caller's options are not mutated
  });

  it('aggregates exactly as FedAvg does (the proximal term lives in the clients)', async () => {
    // (10 [1, 1] + 30 [4, -2]) / 40 = [3.25, -1.25]; [1, 2] + mean = [4.25, 0.75]
    const uploads = [
      { client: 'A', weight: 10, values: [1, 1] },
      { client: 'B', weight: 30, values: [4, -2] },
    ];
    const prox = await runRound(new FedProx({ fit, proximalMu: 1 }), weights([1], [2]), uploads);
    const avg = await runRound(new FedAvg({ fit }), weights([1], [2]), uploads);
    expect(flat(prox.weights)).toEqual([4.25, 0.75]);
    expect(flat(prox.weights)).toEqual(flat(avg.weights));
  });

  it('works under every secure-aggregation mode and validates mu', () => {
    const s = new FedProx({ fit, proximalMu: 0 });
    expect(s.name).toBe('fedprox');
    expect(modesFor(s.capabilities)).toEqual(['plain', 'ckks', 'secaggplus']);
    for (const mu of [-0.1, NaN, Infinity]) {
      expect(() => new FedProx({ fit, proximalMu: mu })).toThrow(StrategyConfigError);
      expect(() => new FedProx({ fit, proximalMu: mu })).toThrow(`proximalMu must be a finite number >= 0, got ${mu}`);
    }
  });

  it('proximalGradientTerm is mu (w - w^t) (hand computation)', () => {
    // mu = 0.5: 0.5 * ([1, 2, -3] - [0.5, 4, -3]) = 0.5 * [0.5, -2, 0] = [0.25, -1, 0]
    const local = Float32Array.from([1, 2, -3]);
    const global = Float32Array.from([0.5, 4, -3]);
    expect(Array.from(proximalGradientTerm(local, global, 0.5))).toEqual([0.25, -1, 0]);
    expect(Array.from(proximalGradientTerm(local, global, 0), (v) => v + 0)).toEqual([0, 0, 0]); // + 0 turns 0 * -2 = -0 into 0
  });

  it('proximalPenalty is (mu / 2) ||w - w^t||^2, and its gradient matches proximalGradientTerm', () => {
    // (0.5 / 2) * (0.25 + 4 + 0) = 1.0625
    const local = Float32Array.from([1, 2, -3]);
    const global = Float32Array.from([0.5, 4, -3]);
    expect(proximalPenalty(local, global, 0.5)).toBe(1.0625);
    // central difference on coordinate 1: (P(w + h e1) - P(w - h e1)) / 2h = -1
    const h = 1 / 64;
    const up = Float32Array.from([1, 2 + h, -3]);
    const down = Float32Array.from([1, 2 - h, -3]);
    expect((proximalPenalty(up, global, 0.5) - proximalPenalty(down, global, 0.5)) / (2 * h)).toBe(proximalGradientTerm(local, global, 0.5)[1]);
  });

  it('the client-side helpers check their inputs', () => {
    expect(() => proximalGradientTerm(new Float32Array(2), new Float32Array(3), 1)).toThrow('local has 2 values, global 3');
    expect(() => proximalPenalty(new Float32Array(2), new Float32Array(2), -1)).toThrow('mu must be a finite number >= 0, got -1');
  });
});
