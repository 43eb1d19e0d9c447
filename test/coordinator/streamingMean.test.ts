import { describe, expect, it } from 'vitest';
import { AggregationError, StreamingMean, addWeighted } from '../../src/coordinator/aggregation/streamingMean.js';
import type { AggregationRound, UpdateSink } from '../../src/coordinator/aggregation/aggregator.js';
import type { TensorSpec } from '../../src/protocol/tensors.js';

const spec: TensorSpec[] = [
  { name: 'w', shape: [3] },
  { name: 'b', shape: [1] },
];

function bound(slots?: number): StreamingMean {
  const mean = new StreamingMean(slots === undefined ? {} : { slots });
  mean.bind(spec);
  return mean;
}

async function commitUpdate(round: AggregationRound, client: string, weight: number, values: number[]): Promise<void> {
  const sink = await round.accept(client, weight);
  sink.write(0, Float32Array.from(values));
  sink.commit();
}

/** Settles to 'pending' if `promise` has not resolved after the event loop has had a turn. */
async function stateOf(promise: Promise<unknown>): Promise<'resolved' | 'pending'> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done ? 'resolved' : 'pending';
}

function thrown(fn: () => unknown): AggregationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AggregationError);
    return e as AggregationError;
  }
  throw new Error('expected an AggregationError');
}

describe('StreamingMean', () => {
  it('computes the example-weighted mean in float64', async () => {
    const round = bound().begin(1);
    await commitUpdate(round, 'a', 10, [1, 1, 0, 2]);
    await commitUpdate(round, 'b', 30, [4, -2, 0, 2]);
    const result = round.finish();
    expect(Array.from(result.mean!)).toEqual([3.25, -1.25, 0, 2]);
    expect(result.totalWeight).toBe(40);
    expect(result.contributors).toEqual(['a', 'b']);
  });

  it('keeps precision a float32 accumulator would lose (double-double: any magnitude)', async () => {
    // In float32, 2^24 + 1 rounds back to 2^24, so a float32 sum would give 2^24 / 3; float64 keeps 2^24 + 2.
    const mean = new StreamingMean({ accumulator: 'double-double' });
    mean.bind(spec);
    const round = mean.begin(1);
    await commitUpdate(round, 'big', 1, [2 ** 24, 0, 0, 0]);
    await commitUpdate(round, 'one', 1, [1, 0, 0, 0]);
    await commitUpdate(round, 'another', 1, [1, 0, 0, 0]);
    expect(round.finish().mean![0]).toBe((2 ** 24 + 2) / 3);
  });

  it('keeps precision a float32 accumulator would lose (fixed point: within its range)', async () => {
    // 2^21 + 1 + 2^-20: float32 keeps 24 bits, so a float32 sum of these drops the small terms; the 2^-32 grid keeps them.
    const round = bound().begin(1);
    await commitUpdate(round, 'big', 1, [2 ** 21, 0, 0, 0]);
    await commitUpdate(round, 'one', 1, [1, 0, 0, 0]);
    await commitUpdate(round, 'tiny', 1, [2 ** -20, 0, 0, 0]);
    const result = round.finish();
    expect(result.sum![0]).toBe(2 ** 21 + 1 + 2 ** -20);
    expect(result.sumGrid).toBe(2 ** -32);
    expect(result.mean![0]).toBe(Math.fround((2 ** 21 + 1 + 2 ** -20) / 3));
  });

  it('drops aborted and never-committed updates without trace', async () => {
    const round = bound(3).begin(1);
    await commitUpdate(round, 'a', 2, [1, 2, 3, 4]);
    const aborted = await round.accept('aborted', 100);
    aborted.write(0, Float32Array.from([1000, 1000]));
    aborted.abort('disconnected');
    const uncommitted = await round.accept('uncommitted', 100);
    uncommitted.write(0, Float32Array.from([1000, 1000, 1000, 1000]));
    const result = round.finish();
    expect(Array.from(result.mean!)).toEqual([1, 2, 3, 4]);
    expect(result.totalWeight).toBe(2);
    expect(result.contributors).toEqual(['a']);
  });

  it('refuses a partial update even when its reused slot still holds an earlier full one', async () => {
    const mean = bound(1);
    const round = mean.begin(1);
    const aborted = await round.accept('aborted', 1);
    aborted.write(0, Float32Array.from([7, 7, 7, 7]));
    aborted.abort('bye');
    // Same (only) slot: writes only the first two values, then commits: refused as incomplete.
    const partial = await round.accept('partial', 1);
    partial.write(0, Float32Array.from([1, 1]));
    expect(thrown(() => partial.commit()).message).toBe('update has 2 values, the model has 4');
    expect(round.finish().mean).toBeUndefined();
  });

  it('refuses NaN and infinite values, naming the parameter index, and drops that update', async () => {
    const round = bound().begin(1);
    for (const [bad, text] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
    ] as const) {
      const sink = await round.accept(`bad-${text}`, 1);
      sink.write(0, Float32Array.from([1, 2]));
      expect(thrown(() => sink.write(2, Float32Array.from([3, bad]))).message).toBe(`update has a non-finite value (${text}) at parameter 3`);
      expect(thrown(() => sink.commit()).message).toMatch(/already finished/);
    }
    await commitUpdate(round, 'good', 1, [5, 5, 5, 5]);
    const result = round.finish();
    expect(Array.from(result.mean!)).toEqual([5, 5, 5, 5]);
    expect(result.contributors).toEqual(['good']);
  });

  it('refuses updates of the wrong length or out of place', async () => {
    const round = bound().begin(1);
    const short = await round.accept('short', 1);
    short.write(0, Float32Array.from([1, 2, 3]));
    expect(thrown(() => short.commit()).message).toBe('update has 3 values, the model has 4');

    const long = await round.accept('long', 1);
    expect(thrown(() => long.write(0, new Float32Array(5))).message).toBe('update values out of place: offset 0, 5 values, model has 4');

    const gap = await round.accept('gap', 1);
    gap.write(0, new Float32Array(1));
    expect(thrown(() => gap.write(2, new Float32Array(2))).message).toMatch(/out of place: offset 2/);

    const overlap = await round.accept('overlap', 1);
    overlap.write(0, new Float32Array(2));
    expect(thrown(() => overlap.write(1, new Float32Array(1))).message).toMatch(/out of place: offset 1/);
    expect(round.finish().mean).toBeUndefined();
  });

  it('refuses a commit after finish() and a commit or write after the update finished', async () => {
    const round = bound().begin(7);
    const late = await round.accept('late', 1);
    late.write(0, new Float32Array(4));
    expect(round.finish().mean).toBeUndefined();
    expect(thrown(() => late.commit()).message).toBe('round 7 closed before the update from late completed');
    await expect(round.accept('later', 1)).rejects.toThrow('round 7 is closed');

    const next = bound().begin(8);
    const sink = await next.accept('a', 1);
    sink.write(0, new Float32Array(4));
    sink.commit();
    expect(thrown(() => sink.commit()).message).toBe('update already finished');
    expect(thrown(() => sink.write(0, new Float32Array(1))).message).toBe('update already finished');
  });

  it('refuses weights that are not positive and finite', async () => {
    const round = bound().begin(1);
    for (const w of [0, -1, NaN, Infinity]) {
      await expect(round.accept('x', w)).rejects.toThrow(`update weight must be positive and finite, got ${w}`);
    }
  });

  it('bounds concurrency by its slots: with one slot a second accept waits for the first to commit or abort', async () => {
    const round = bound(1).begin(1);
    const first = await round.accept('first', 1);
    const secondPromise = round.accept('second', 3);
    expect(await stateOf(secondPromise)).toBe('pending');
    first.write(0, Float32Array.from([1, 1, 1, 1]));
    first.commit();
    expect(await stateOf(secondPromise)).toBe('resolved');
    const second = await secondPromise;

    const thirdPromise = round.accept('third', 100);
    expect(await stateOf(thirdPromise)).toBe('pending');
    second.write(0, Float32Array.from([5, 5, 5, 5]));
    second.commit();
    const third = await thirdPromise;
    third.abort('gone');
    // The slot comes back after an abort too.
    expect(await stateOf(round.accept('fourth', 1))).toBe('resolved');

    expect(Array.from(round.finish().mean!)).toEqual([4, 4, 4, 4]);
  });

  it('hands freed slots to waiters in arrival order, and a failed write frees its slot', async () => {
    const round = bound(1).begin(1);
    const holder: UpdateSink = await round.accept('holder', 1);
    const order: string[] = [];
    const waiting = ['w1', 'w2'].map((name) =>
      round.accept(name, 1).then((sink) => {
        order.push(name);
        return sink;
      }),
    );
    expect(() => holder.write(0, Float32Array.from([NaN]))).toThrow(/non-finite/);
    const w1 = await waiting[0]!;
    expect(order).toEqual(['w1']);
    w1.abort('x');
    await waiting[1];
    expect(order).toEqual(['w1', 'w2']);
  });

  it('validates its options and its phases', () => {
    expect(() => new StreamingMean({ slots: 0 })).toThrow('slots must be a positive integer, got 0');
    expect(() => new StreamingMean({ slots: 1.5 })).toThrow(AggregationError);
    expect(() => new StreamingMean().begin(1)).toThrow('bind() the aggregator to the model before round 1');
    expect(() => new StreamingMean().bind([{ name: 'empty', shape: [0] }])).toThrow('the model has no parameters');
  });
});

describe('addWeighted', () => {
  it('adds weight x values into a float64 sum, in place', () => {
    const sum = Float64Array.from([1, 2, 3]);
    addWeighted(sum, Float32Array.from([1, -1, 0.5]), 4);
    expect(Array.from(sum)).toEqual([5, -2, 5]);
  });
});

describe('order independence', () => {
  // Values over many magnitudes, where plain float64 summation is order-dependent; 100,003 parameters, so the
  // SIMD kernel's remainder paths run too.
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const size = 100_003;
  // Up to 1e7 for the double-double sum; up to 1e2 (times weights up to 500) for the fixed-point sum's range.
  const updatesUpTo = (exponents: number) =>
    Array.from({ length: 12 }, (_, k) => ({
      weight: 1 + ((k * 7919) % 500),
      values: Float32Array.from({ length: size }, () => rnd() * 10 ** Math.floor(rnd() * exponents - 5)),
    }));
  const updatesByAccumulator = { 'double-double': updatesUpTo(13), 'fixed-point': updatesUpTo(8) };
  const updates = updatesByAccumulator['double-double'];
  const orders = [updates.map((_, k) => k), updates.map((_, k) => updates.length - 1 - k), [5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6]];
  /** The mean as its own bytes (it is a view of the aggregator's memory). */
  const meanInOrder = async (order: number[], kernel: 'wasm-simd' | 'js', slots: number, accumulator: 'fixed-point' | 'double-double') => {
    const agg = new StreamingMean({ kernel, slots, accumulator });
    agg.bind([{ name: 'w', shape: [size] }]);
    const round = agg.begin(1);
    const data = updatesByAccumulator[accumulator];
    for (const k of order) {
      const sink = await round.accept(`c${k}`, data[k]!.weight);
      // In uneven runs, as the decoder hands them over.
      const values = data[k]!.values;
      for (const [from, to] of [[0, 17], [17, 65_536], [65_536, size]] as const) sink.write(from, values.subarray(from, to));
      sink.commit();
    }
    const mean = round.finish().mean!;
    return Buffer.from(mean.buffer, mean.byteOffset, mean.byteLength).toString('base64');
  };

  it.each(['fixed-point', 'double-double'] as const)('gives a bit-identical mean whatever order the same updates commit in, with either kernel (%s)', async (accumulator) => {
    const means = new Set<string>();
    for (const kernel of ['wasm-simd', 'js'] as const) {
      for (const order of orders) means.add(await meanInOrder(order, kernel, order === orders[2] ? 1 : 2, accumulator));
    }
    expect(means.size).toBe(1);
  });

  it('is not vacuous: the plain float64 loop depends on the order on the same data', () => {
    const plain = (order: number[]) => {
      const sum = new Float64Array(size);
      for (const k of order) addWeighted(sum, updates[k]!.values, updates[k]!.weight);
      return sum;
    };
    const a = plain(orders[0]!);
    const b = plain(orders[1]!);
    expect(a.some((v, i) => v !== b[i])).toBe(true);
  });
});
