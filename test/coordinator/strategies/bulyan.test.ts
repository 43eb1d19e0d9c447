import { describe, expect, it } from 'vitest';
import { Bulyan, bulyan, bulyanSelect, meanClosestToMedian } from '../../../src/coordinator/strategies/bulyan.js';
import { StrategyConfigError } from '../../../src/coordinator/strategies/fedAvg.js';
import { fit, flat, runRound, uploadsOf, weights } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

// Seven one-parameter updates a..g; g = 20 is the Byzantine one. n = 7, f = 1: theta = 5, beta = 3.
const values = [-1, 0, 0.5, 1, 1.5, 3, 20];
const rows = values.map((v) => Float32Array.from([v]));

describe('Bulyan (El Mhamdi et al. 2018) over Krum', () => {
  it('selects theta = n - 2f updates by iterated Krum (hand computation)', () => {
    // Squared distances are (x - y)^2. Each pass scores the remaining set with max(1, |R| - f - 2) neighbours.
    // Pass 1, R = all 7, 4 neighbours:
    //   a(-1): 1 + 2.25 + 4 + 6.25 = 13.5   b(0): 0.25 + 1 + 1 + 2.25 = 4.5   c(0.5): 0.25 + 0.25 + 1 + 2.25 = 3.75
    //   d(1): 0.25 + 0.25 + 1 + 4 = 5.5     e(1.5): 0.25 + 1 + 2.25 + 2.25 = 5.75   f(3): 2.25 + 4 + 6.25 + 9 = 21.5
    //   g(20): 289 + 342.25 + 361 + 380.25 = 1372.5                   -> c (0.5)
    // Pass 2, R = {a, b, d, e, f, g}, 3 neighbours:
    //   a: 1 + 4 + 6.25 = 11.25  b: 1 + 1 + 2.25 = 4.25  d: 0.25 + 1 + 4 = 5.25  e: 0.25 + 2.25 + 2.25 = 4.75
    //   f: 2.25 + 4 + 9 = 15.25  g: 289 + 342.25 + 361 = 992.25       -> b (0)
    // Pass 3, R = {a, d, e, f, g}, 2 neighbours:
    //   a: 4 + 6.25 = 10.25  d: 0.25 + 4 = 4.25  e: 0.25 + 2.25 = 2.5  f: 2.25 + 4 = 6.25  g: 289 + 342.25 = 631.25 -> e (1.5)
    // Pass 4, R = {a, d, f, g}, 1 neighbour: a: 4, d: 4, f: 4, g: 289 -> a tie, broken by client id -> a (-1)
    // Pass 5, R = {d, f, g}, 1 neighbour: d: 4, f: 4, g: 289 -> d (1)
    expect(bulyanSelect(rows, 1).map((i) => values[i])).toEqual([0.5, 0, 1.5, -1, 1]);
  });

  it('then averages, per coordinate, the beta values closest to the median of the selection', () => {
    // Selected, sorted: -1, 0, 0.5, 1, 1.5; median 0.5; the 3 closest: 0.5 (0), 0 and 1 (0.5 each) -> (0 + 0.5 + 1) / 3 = 0.5
    expect(Array.from(bulyan(rows, 1))).toEqual([0.5]);
  });

  it('meanClosestToMedian grows a run outward from the middle, the nearer side first', () => {
    const sorted = Float64Array.from([-1, 0, 0.5, 3, 4]);
    // median 0.5; nearest: 0.5 (0), 0 (0.5), then -1 (1.5) before 3 (2.5): (0.5 + 0 - 1) / 3
    expect(meanClosestToMedian(sorted, 5, 3)).toBeCloseTo(-0.5 / 3, 12);
    // even count {0, 1, 2, 10}: median 1.5; 1 and 2 tie at 0.5 (lower first), then 0 (1.5) before 10: beta 3 -> (1 + 2 + 0) / 3 = 1
    expect(meanClosestToMedian(Float64Array.from([0, 1, 2, 10]), 4, 3)).toBe(1);
    expect(meanClosestToMedian(Float64Array.from([0, 1, 2, 10]), 4, 4)).toBe(3.25);
  });

  it('as a strategy: moves the model by the Bulyan delta, ignoring the claimed example counts', async () => {
    const s = new Bulyan({ fit, byzantine: 1, minFitClients: 7 });
    expect(s.name).toBe('bulyan');
    expect(modesFor(s.capabilities)).toEqual(['plain']);
    const uploads = uploadsOf(values.map((v) => [v]));
    const heavy = uploads.map((u) => (u.client === 'g' ? { ...u, weight: 1e6 } : u));
    expect(flat((await runRound(s, weights([10]), heavy)).weights)).toEqual([10.5]);
  });

  it('checks n >= 4f + 3 against minFitClients, with a clear message', () => {
    expect(() => new Bulyan({ fit, byzantine: 1, minFitClients: 6 })).toThrow(StrategyConfigError);
    expect(() => new Bulyan({ fit, byzantine: 1, minFitClients: 6 })).toThrow(
      'Bulyan with byzantine f = 1 needs n >= 4f + 3 = 7 clients in every round: raise minFitClients (6) to at least 7',
    );
    expect(() => new Bulyan({ fit, byzantine: 2, minFitClients: 10 })).toThrow(/n >= 4f \+ 3 = 11/);
    expect(() => new Bulyan({ fit, byzantine: 1, minFitClients: 7 })).not.toThrow();
    expect(() => new Bulyan({ fit, byzantine: -1, minFitClients: 7 })).toThrow('byzantine (f) must be an integer >= 0, got -1');
    expect(() => bulyan(rows.slice(0, 6), 1)).toThrow('Bulyan with f = 1 Byzantine clients needs at least 4f + 3 = 7 updates, got 6');
  });
});
