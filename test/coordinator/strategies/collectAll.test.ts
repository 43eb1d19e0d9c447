import { describe, expect, it } from 'vitest';
import { CollectAll, updatesOf } from '../../../src/coordinator/aggregation/collectAll.js';
import { AggregationError, StreamingMean } from '../../../src/coordinator/aggregation/streamingMean.js';
import type { TensorSpec } from '../../../src/protocol/tensors.js';
import { aggregatorContract } from '../aggregatorContract.js';

// CollectAll is an Aggregator: it runs the shared contract like StreamingMean (no skips).
aggregatorContract('CollectAll (default slots)', () => new CollectAll());
aggregatorContract('CollectAll (one slot)', () => new CollectAll({ slots: 1 }));

const spec: TensorSpec[] = [
  { name: 'w', shape: [2] },
  { name: 'b', shape: [1] },
];

function bound(): CollectAll {
  const c = new CollectAll();
  c.bind(spec);
  return c;
}

describe('CollectAll', () => {
  it('keeps every committed update whole, with its weight, sorted by client id', async () => {
    const round = bound().begin(1);
    for (const [id, weight, values] of [
      ['zed', 3, [1, 2, 3]],
      ['amy', 1, [4, 5, 6]],
      ['kim', 2, [7, 8, 9]],
    ] as const) {
      const sink = await round.accept(id, weight);
      sink.write(0, Float32Array.from(values.slice(0, 1)));
      sink.write(1, Float32Array.from(values.slice(1)));
      sink.commit();
    }
    const result = round.finish();
    expect(result.updates.map((u) => [u.clientId, u.weight, Array.from(u.values)])).toEqual([
      ['amy', 1, [4, 5, 6]],
      ['kim', 2, [7, 8, 9]],
      ['zed', 3, [1, 2, 3]],
    ]);
    // The mean is still there, weighted: (3 [1, 2, 3] + 1 [4, 5, 6] + 2 [7, 8, 9]) / 6 = [3.5, 4.5, 5.5]
    expect(Array.from(result.mean!)).toEqual([3.5, 4.5, 5.5]);
    expect(result.contributors).toEqual(['zed', 'amy', 'kim']);
    expect(updatesOf(result)).toBe(result.updates);
  });

  it('copies the values: the caller may reuse its buffers', async () => {
    const round = bound().begin(1);
    const buffer = Float32Array.from([1, 2, 3]);
    const sink = await round.accept('a', 1);
    sink.write(0, buffer);
    buffer.fill(9);
    sink.commit();
    expect(Array.from(round.finish().updates[0]!.values)).toEqual([1, 2, 3]);
  });

  it('keeps nothing of an aborted, a non-finite, an incomplete or a late update (StreamingMean\'s checks)', async () => {
    const round = bound().begin(4);
    const aborted = await round.accept('aborted', 1);
    aborted.write(0, Float32Array.from([5, 5, 5]));
    aborted.abort('gone');

    const nan = await round.accept('nan', 1);
    expect(() => nan.write(0, Float32Array.from([1, NaN, 1]))).toThrow(AggregationError);
    expect(() => nan.write(0, Float32Array.from([1, NaN, 1]))).toThrow('update already finished');
    expect(() => nan.commit()).toThrow('update already finished');

    const short = await round.accept('short', 1);
    short.write(0, Float32Array.from([1, 1]));
    expect(() => short.commit()).toThrow('update has 2 values, the model has 3');

    const misplaced = await round.accept('misplaced', 1);
    expect(() => misplaced.write(1, Float32Array.from([1]))).toThrow(/out of place/);

    const good = await round.accept('good', 2);
    good.write(0, Float32Array.from([1, 2, 3]));
    good.commit();

    const late = await round.accept('late', 1);
    late.write(0, Float32Array.from([7, 7, 7]));
    const result = round.finish();
    expect(() => late.commit()).toThrow('round 4 closed before the update from late completed');
    expect(result.updates.map((u) => u.clientId)).toEqual(['good']);
    expect(result.contributors).toEqual(['good']);
    expect(Array.from(result.mean!)).toEqual([1, 2, 3]);
  });

  it('keeps an update times the scale a wrapper commits it with, as the mean counts it', async () => {
    // A clipping wrapper commits [3, 4, 0] (norm 5) with scale 0.2 (C = 1): kept [0.6, 0.8, 0];
    // with [1, 1, 1] at scale 1, weights 1 and 1: mean = ([0.6, 0.8, 0] + [1, 1, 1]) / 2 = [0.8, 0.9, 0.5]
    const round = bound().begin(1);
    const clipped = await round.accept('a', 1);
    clipped.write(0, Float32Array.from([3, 4, 0]));
    clipped.commit(0.2);
    const plain = await round.accept('b', 1);
    plain.write(0, Float32Array.from([1, 1, 1]));
    plain.commit(1);
    const result = round.finish();
    expect(Array.from(result.updates[0]!.values)).toEqual(Array.from(Float32Array.from([0.6, 0.8, 0])));
    expect(Array.from(result.mean!)).toEqual(Array.from(Float32Array.from([0.8, 0.9, 0.5])));
    const bad = await bound().begin(2).accept('c', 1);
    bad.write(0, Float32Array.from([1, 1, 1]));
    expect(() => bad.commit(2)).toThrow('commit scale must be within [0, 1], got 2');
  });

  it('starts every round empty', async () => {
    const c = bound();
    const first = c.begin(1);
    const sink = await first.accept('a', 1);
    sink.write(0, Float32Array.from([1, 2, 3]));
    sink.commit();
    expect(first.finish().updates).toHaveLength(1);
    expect(c.begin(2).finish()).toEqual({ mean: undefined, totalWeight: 0, contributors: [], updates: [] });
  });

  it('refuses begin() before bind(), bad slots and bad weights, as StreamingMean does', async () => {
    expect(() => new CollectAll().begin(1)).toThrow('bind() the aggregator to the model before round 1');
    expect(() => new CollectAll({ slots: 0 })).toThrow('slots must be a positive integer, got 0');
    await expect(bound().begin(1).accept('x', 0)).rejects.toThrow('update weight must be positive and finite, got 0');
  });

  it('updatesOf gives undefined for a plain mean', async () => {
    const mean = new StreamingMean();
    mean.bind(spec);
    expect(updatesOf(mean.begin(1).finish())).toBeUndefined();
  });
});
