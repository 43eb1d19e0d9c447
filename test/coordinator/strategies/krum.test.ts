import { describe, expect, it } from 'vitest';
import { Krum, krumScores, multiKrum, pairwiseSquaredDistances } from '../../../src/coordinator/strategies/krum.js';
import { StrategyConfigError } from '../../../src/coordinator/strategies/fedAvg.js';
import { fit, flat, runRound, uploadsOf, weights } from './harness.js';

// Five 2-D updates a..e; e is far away.
const points = [
  [0, 0], // a
  [2, 0], // b
  [0, 1], // c
  [1, 1], // d
  [10, 10], // e
];
const rows = points.map((p) => Float32Array.from(p));

describe('Krum and Multi-Krum (Blanchard et al. 2017)', () => {
  it('pairwise squared distances (hand computation)', () => {
    // ab = 4, ac = 1, ad = 1 + 1 = 2, ae = 100 + 100 = 200, bc = 4 + 1 = 5, bd = 1 + 1 = 2,
    // be = 64 + 100 = 164, cd = 1, ce = 100 + 81 = 181, de = 81 + 81 = 162
    const d = pairwiseSquaredDistances(rows);
    const at = (i: number, j: number) => d[i * 5 + j];
    expect([at(0, 1), at(0, 2), at(0, 3), at(0, 4), at(1, 2), at(1, 3), at(1, 4), at(2, 3), at(2, 4), at(3, 4)]).toEqual([4, 1, 2, 200, 5, 2, 164, 1, 181, 162]);
    expect(at(3, 1)).toBe(2);
    expect(at(2, 2)).toBe(0);
  });

  it('scores each update by its n - f - 2 nearest neighbours (n = 5, f = 1: two)', () => {
    // a: {4, 1, 2, 200} -> 1 + 2 = 3;  b: {4, 5, 2, 164} -> 2 + 4 = 6;  c: {1, 5, 1, 181} -> 1 + 1 = 2
    // d: {2, 2, 1, 162} -> 1 + 2 = 3;  e: {200, 164, 181, 162} -> 162 + 164 = 326
    expect(Array.from(krumScores(rows, 1))).toEqual([3, 6, 2, 3, 326]);
  });

  it('Krum returns the best-scored update itself; Multi-Krum averages the m best', () => {
    // best: c = [0, 1]. m = 3: c (2), a (3), d (3) -> ([0, 1] + [0, 0] + [1, 1]) / 3 = [1/3, 2/3]
    // m = 4 adds b (6): ([0, 1] + [0, 0] + [1, 1] + [2, 0]) / 4 = [0.75, 0.5]
    expect(Array.from(multiKrum(rows, 1, 1))).toEqual([0, 1]);
    const three = Array.from(multiKrum(rows, 1, 3));
    expect(three[0]).toBeCloseTo(1 / 3, 7);
    expect(three[1]).toBeCloseTo(2 / 3, 7);
    expect(Array.from(multiKrum(rows, 1, 4))).toEqual([0.75, 0.5]);
  });

  it('as a strategy: the model moves by the selected delta, unweighted', async () => {
    const global = weights([5, 5]);
    const krum = new Krum({ fit, byzantine: 1, minFitClients: 5 });
    expect(krum.name).toBe('krum');
    expect(flat((await runRound(krum, global, uploadsOf(points))).weights)).toEqual([5, 6]);
    const multi = new Krum({ fit, byzantine: 1, keep: 4, minFitClients: 5 });
    expect(multi.name).toBe('multi-krum');
    expect(flat((await runRound(multi, global, uploadsOf(points))).weights)).toEqual([5.75, 5.5]);
  });

  it('breaks equal scores by client id, whatever order the updates arrive in', async () => {
    // Two identical pairs: a = b = [0], c = d = [1], e = [5]; n = 5, f = 1, 2 neighbours:
    // a: {0, 1, 1, 25} -> 1; b: 1; c: {1, 1, 0, 16} -> 1; d: 1; e: {25, 25, 16, 16} -> 32. All of a-d tie: a wins.
    const uploads = [
      { client: 'd', values: [1] },
      { client: 'c', values: [1] },
      { client: 'e', values: [5] },
      { client: 'b', values: [0] },
      { client: 'a', values: [0] },
    ];
    const s = new Krum({ fit, byzantine: 1, minFitClients: 5 });
    expect(flat((await runRound(s, weights([0]), uploads)).weights)).toEqual([0]);
  });

  it('checks n > 2f + 2 against minFitClients, with a clear message', () => {
    expect(() => new Krum({ fit, byzantine: 1, minFitClients: 4 })).toThrow(StrategyConfigError);
    expect(() => new Krum({ fit, byzantine: 1, minFitClients: 4 })).toThrow(
      'Krum with byzantine f = 1 needs n > 2f + 2 = 4 clients in every round: raise minFitClients (4) to at least 5',
    );
    expect(() => new Krum({ fit, byzantine: 2, minFitClients: 6 })).toThrow(/n > 2f \+ 2 = 6 clients in every round: raise minFitClients \(6\) to at least 7/);
    expect(() => new Krum({ fit, byzantine: 2, minFitClients: 7 })).not.toThrow();
    // f = 0 still needs one neighbour: n > 2, so the default minFitClients (2) is refused and 3 accepted.
    expect(() => new Krum({ fit, byzantine: 0 })).toThrow(/raise minFitClients \(2\) to at least 3/);
    expect(() => new Krum({ fit, byzantine: 0, minFitClients: 3 })).not.toThrow();
  });

  it('refuses f that is not a whole number >= 0 and m outside [1, minFitClients - f]', () => {
    expect(() => new Krum({ fit, byzantine: -1, minFitClients: 5 })).toThrow('byzantine (f) must be an integer >= 0, got -1');
    expect(() => new Krum({ fit, byzantine: 0.5, minFitClients: 5 })).toThrow('byzantine (f) must be an integer >= 0, got 0.5');
    expect(() => new Krum({ fit, byzantine: 1, keep: 0, minFitClients: 5 })).toThrow('keep (m) must be an integer >= 1, got 0');
    expect(() => new Krum({ fit, byzantine: 1, keep: 5, minFitClients: 5 })).toThrow(
      'Multi-Krum keeps m <= minFitClients - f = 4 updates (the ones that can be trusted in the smallest round), got 5',
    );
    expect(() => new Krum({ fit, byzantine: 1, keep: 4, minFitClients: 5 })).not.toThrow();
  });

  it('the pure function checks its own bounds', () => {
    expect(() => krumScores(rows.slice(0, 4), 1)).toThrow('Krum with f = 1 Byzantine clients needs more than 2f + 2 = 4 updates, got 4');
    expect(() => multiKrum(rows, 1, 6)).toThrow('Multi-Krum keeps m in [1, 5] updates, got 6');
  });
});
