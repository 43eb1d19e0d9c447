import { describe, expect, it } from 'vitest';
import { DEFAULT_FRACTION_BITS } from '../../../src/coordinator/aggregation/fixedPointKernel.js';
import { Bulyan } from '../../../src/coordinator/strategies/bulyan.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { FedMedian } from '../../../src/coordinator/strategies/fedMedian.js';
import { FedTrimmedAvg } from '../../../src/coordinator/strategies/fedTrimmedAvg.js';
import { Krum } from '../../../src/coordinator/strategies/krum.js';
import type { Strategy } from '../../../src/coordinator/strategy.js';
import { fit, flat, runRound, weights, type Upload } from './harness.js';

/**
 * Sanity check of Byzantine resilience: honest clients agree on a delta near [1, -1, 0.5]; one client
 * sends a huge or a sign-flipped (and scaled) update and claims ten times the examples. FedAvg is dragged
 * far off (or, for the huge one, refuses it: it is beyond the range of FedAvg's fixed-point sum); the robust rules stay near the honest mean. Bulyan needs n >= 4f + 3, so it gets 7 clients
 * (6 honest) where the others get 5 (4 honest).
 */
const honestRows = [
  [1.0, -1.0, 0.5],
  [1.1, -0.9, 0.4],
  [0.9, -1.1, 0.6],
  [1.05, -1.0, 0.5],
  [0.95, -0.95, 0.45],
  [1.0, -1.05, 0.55],
];
const attacks: Record<string, number[]> = {
  huge: [1e6, 1e6, -1e6],
  'beyond the fixed-point range': [2e7, -2e7, 2e7],
  'sign-flipped': [-10, 10, -5],
};

function uploads(honest: number, attack: number[]): Upload[] {
  const good = honestRows.slice(0, honest).map((values, i) => ({ client: `honest-${i}`, weight: 10, values }));
  return [...good, { client: 'byzantine', weight: 100, values: attack }];
}

function honestMean(honest: number): number[] {
  const rows = honestRows.slice(0, honest);
  return [0, 1, 2].map((k) => rows.reduce((s, r) => s + r[k]!, 0) / rows.length);
}

const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(...a.map((v, i) => v - b[i]!));

const robust: [string, () => Strategy, number][] = [
  ['Krum (f = 1)', () => new Krum({ fit, byzantine: 1, minFitClients: 5 }), 4],
  ['Multi-Krum (f = 1, m = 3)', () => new Krum({ fit, byzantine: 1, keep: 3, minFitClients: 5 }), 4],
  ['FedMedian', () => new FedMedian({ fit, minFitClients: 5 }), 4],
  ['FedTrimmedAvg (beta = 0.2)', () => new FedTrimmedAvg({ fit, beta: 0.2, minFitClients: 5 }), 4],
  ['Bulyan (f = 1, n = 7)', () => new Bulyan({ fit, byzantine: 1, minFitClients: 7 }), 6],
];

describe.each(Object.entries(attacks))('one Byzantine client sending a %s update', (_name, attack) => {
  it('drags FedAvg far from the honest clients, unless its fixed-point range refuses the update', async () => {
    const round = runRound(new FedAvg({ fit }), weights([0, 0, 0]), uploads(4, attack));
    // An attack beyond the 2^(62 - F) a weighted value may reach on FedAvg's 2^-F grid is refused, not wrapped.
    if (Math.max(...attack.map(Math.abs)) * 100 >= 2 ** (62 - DEFAULT_FRACTION_BITS)) return void (await expect(round).rejects.toThrow(/leaves the fixed-point range/));
    const next = flat((await round).weights);
    expect(distance(next, honestMean(4))).toBeGreaterThan(5);
  });

  for (const [name, create, honest] of robust) {
    it(`${name} stays within 0.15 of the honest mean`, async () => {
      const next = flat((await runRound(create(), weights([0, 0, 0]), uploads(honest, attack))).weights);
      expect(distance(next, honestMean(honest))).toBeLessThan(0.15);
    });
  }
});
