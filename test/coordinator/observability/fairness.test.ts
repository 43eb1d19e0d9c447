import { describe, expect, it } from 'vitest';
import { FairnessTracker, fairnessOfRound } from '../../../src/coordinator/observability/fairness.js';
import { roundRecord } from './roundRecords.js';

describe('fairness across rounds', () => {
  it('computes each round\'s spread over the clients that evaluated, leaving failures out', () => {
    const { fairness } = fairnessOfRound(
      roundRecord(1, [
        ['a', 0.9, 0.2],
        ['b', 0.6, 0.5],
        ['c', 0.75, 0.35],
        ['d', 'failed'],
      ]),
      new Map(),
    );
    expect(fairness.round).toBe(1);
    expect(fairness.accuracy).toMatchObject({ worst: { client: 'b', value: 0.6 }, best: { client: 'a', value: 0.9 }, clients: 3 });
    expect(fairness.accuracy!.mean).toBeCloseTo(0.75, 12);
    expect(fairness.loss).toMatchObject({ worst: { client: 'b', value: 0.5 }, best: { client: 'a', value: 0.2 } });
    expect(fairness.loss!.gapMeanToWorst).toBeCloseTo(0.15, 12);
    expect(fairness.drift.map((d) => d.client)).toEqual(['a', 'b', 'c']);
    // First round: drift against itself, no previous round.
    expect(fairness.drift[0]!.accuracy).toEqual({ value: 0.9, firstRound: 1, first: 0.9, sinceFirst: 0 });
  });

  it('tracks each client against its previous evaluated round and its first, across a missed round', () => {
    const tracker = new FairnessTracker();
    tracker.observe(roundRecord(1, [['a', 0.9, 0.2], ['b', 0.6, 0.5]]));
    const r2 = tracker.observe(roundRecord(2, [['a', 0.92, 0.18], ['b', 'failed']]));
    const r3 = tracker.observe(roundRecord(3, [['a', 0.95, 0.15], ['b', 0.8, 0.3]]));

    expect(r2.drift.map((d) => d.client)).toEqual(['a']);
    const a2 = r2.drift[0]!.accuracy!;
    expect([a2.previousRound, a2.previous, a2.firstRound, a2.first]).toEqual([1, 0.9, 1, 0.9]);
    expect(a2.sincePrevious).toBeCloseTo(0.02, 12);

    const [a3, b3] = r3.drift;
    expect(a3!.accuracy!.sincePrevious).toBeCloseTo(0.03, 12);
    expect(a3!.accuracy!.sinceFirst).toBeCloseTo(0.05, 12);
    expect(a3!.loss!.sinceFirst).toBeCloseTo(-0.05, 12);
    // b missed round 2: its previous round is 1.
    expect(b3!.accuracy).toMatchObject({ value: 0.8, previousRound: 1, previous: 0.6, firstRound: 1, first: 0.6 });
    expect(b3!.accuracy!.sincePrevious).toBeCloseTo(0.2, 12);
    expect(b3!.loss!.sincePrevious).toBeCloseTo(-0.2, 12);

    const snapshot = tracker.snapshot();
    expect(snapshot.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(snapshot.latest).toBe(r3);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot); // JSON-ready: no NaN, Map or undefined
  });

  it('follows each metric on its own: a client without accuracy still drifts in loss', () => {
    const tracker = new FairnessTracker();
    tracker.observe(roundRecord(1, [['a', undefined, 2], ['b', 0.5, Number.NaN]]));
    const r2 = tracker.observe(roundRecord(2, [['a', 0.4, 1.5], ['b', 0.7, 1]]));
    expect(r2.drift[0]).toMatchObject({ client: 'a', accuracy: { firstRound: 2, sinceFirst: 0 }, loss: { firstRound: 1, previous: 2, sincePrevious: -0.5 } });
    expect(r2.drift[1]).toMatchObject({ client: 'b', accuracy: { previousRound: 1 }, loss: { firstRound: 2 } });
    expect(r2.drift[1]!.accuracy!.sincePrevious).toBeCloseTo(0.2, 12);
  });

  it('does not change the memory it was given', () => {
    const first = fairnessOfRound(roundRecord(1, [['a', 0.5, 1]]), new Map());
    const before = JSON.stringify([...first.memory]);
    fairnessOfRound(roundRecord(2, [['a', 0.9, 0.1]]), first.memory);
    expect(JSON.stringify([...first.memory])).toBe(before);
  });

  it('has no spread for a round without federated evaluation', () => {
    const { evaluate: _e, ...noEvaluation } = roundRecord(1, [['a', 0.5, 1]]);
    expect(new FairnessTracker().observe(noEvaluation)).toEqual({ round: 1, drift: [] });
  });
});
