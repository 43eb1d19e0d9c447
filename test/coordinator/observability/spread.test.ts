import { describe, expect, it } from 'vitest';
import { spreadOf } from '../../../src/coordinator/observability/spread.js';

const v = (client: string, value: number) => ({ client, value });

describe('spreadOf', () => {
  it('finds worst, best, mean, the gap to the worst and the population std, for a metric better higher', () => {
    const s = spreadOf([v('a', 0.9), v('b', 0.6), v('c', 0.75)], 'higher')!;
    expect(s.worst).toEqual(v('b', 0.6));
    expect(s.best).toEqual(v('a', 0.9));
    expect(s.mean).toBeCloseTo(0.75, 12);
    expect(s.gapMeanToWorst).toBeCloseTo(0.15, 12);
    // deviations 0.15, -0.15, 0: variance 0.045 / 3 = 0.015 (divided by n, not n - 1)
    expect(s.std).toBeCloseTo(Math.sqrt(0.015), 12);
    expect(s.clients).toBe(3);
  });

  it('turns worst and best around for a metric better lower, and keeps the gap positive', () => {
    const s = spreadOf([v('a', 0.2), v('b', 0.5), v('c', 0.35)], 'lower')!;
    expect(s.worst).toEqual(v('b', 0.5));
    expect(s.best).toEqual(v('a', 0.2));
    expect(s.gapMeanToWorst).toBeCloseTo(0.15, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(0.015), 12);
  });

  it('gives ties to the client listed first, and zero spread for one client', () => {
    const tie = spreadOf([v('x', 0.5), v('y', 0.5)], 'higher')!;
    expect([tie.worst.client, tie.best.client, tie.std, tie.gapMeanToWorst]).toEqual(['x', 'x', 0, 0]);
    expect(spreadOf([v('solo', 2)], 'lower')).toMatchObject({ worst: v('solo', 2), best: v('solo', 2), mean: 2, gapMeanToWorst: 0, std: 0, clients: 1 });
  });

  it('leaves out non-finite values, and has nothing to say without a finite one', () => {
    const s = spreadOf([v('a', Number.NaN), v('b', 1), v('c', Number.POSITIVE_INFINITY), v('d', 3)], 'lower')!;
    expect([s.clients, s.worst.client, s.best.client, s.mean, s.std]).toEqual([2, 'd', 'b', 2, 1]);
    expect(spreadOf([], 'higher')).toBeUndefined();
    expect(spreadOf([v('a', Number.NaN)], 'higher')).toBeUndefined();
  });
});
