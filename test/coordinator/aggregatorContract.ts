import { describe, expect, it } from 'vitest';
import type { AggregationRound, Aggregator, UpdateSink } from '../../src/coordinator/aggregation/aggregator.js';
import type { TensorSpec } from '../../src/protocol/tensors.js';

/**
 * The contract every Aggregator runs (Hono-style shared suite): the plain mean today, and every wrapper
 * (clipping, DP noise, secure sums) later. A wrapper whose result is not the exact mean (noise, clipping)
 * passes `skip` with the names of the tests that do not apply and the reason.
 */
export interface AggregatorContractOptions {
  /** Test names to skip, each with the reason (kept explicit so a skip is never silent). */
  readonly skip?: Readonly<Record<string, string>>;
  /** Allowed absolute error on the mean (0 for the exact float64 mean; > 0 for lossy encodings). */
  readonly tolerance?: number;
}

const spec: TensorSpec[] = [
  { name: 'kernel', shape: [2, 2] },
  { name: 'bias', shape: [2] },
];
const SIZE = 6;

interface Update {
  readonly client: string;
  readonly weight: number;
  readonly values: readonly number[];
}

/** Streams one update in uneven pieces, as the transport delivers them. */
function writeInPieces(sink: UpdateSink, values: readonly number[]): void {
  const data = Float32Array.from(values);
  const cuts = [0, 1, 4, data.length];
  for (let i = 0; i + 1 < cuts.length; i++) sink.write(cuts[i]!, data.subarray(cuts[i]!, cuts[i + 1]!));
}

async function contribute(round: AggregationRound, u: Update): Promise<void> {
  const sink = await round.accept(u.client, u.weight);
  writeInPieces(sink, u.values);
  sink.commit();
}

function weightedMean(updates: readonly Update[]): number[] {
  const total = updates.reduce((s, u) => s + u.weight, 0);
  return Array.from({ length: SIZE }, (_, i) => updates.reduce((s, u) => s + u.weight * u.values[i]!, 0) / total);
}

const updates: Update[] = [
  { client: 'a', weight: 10, values: [1, 2, 3, 4, 5, 6] },
  { client: 'b', weight: 30, values: [-1, 0.5, 0, 8, -2, 1] },
  { client: 'c', weight: 5, values: [0.25, 0.25, 100, -100, 3, 3] },
];

export function aggregatorContract(name: string, create: () => Aggregator, options: AggregatorContractOptions = {}): void {
  const tolerance = options.tolerance ?? 0;
  const test = (title: string, fn: () => Promise<void> | void) => {
    const reason = options.skip?.[title];
    if (reason !== undefined) it.skip(`${title} (skipped: ${reason})`, fn);
    else it(title, fn);
  };
  const expectClose = (actual: Float32Array | undefined, expected: readonly number[]) => {
    expect(actual).toBeInstanceOf(Float32Array);
    expect(actual!.length).toBe(expected.length);
    expected.forEach((v, i) => {
      if (tolerance === 0) expect(actual![i]).toBe(Math.fround(v));
      else expect(Math.abs(actual![i]! - v)).toBeLessThanOrEqual(tolerance);
    });
  };
  const bound = () => {
    const aggregator = create();
    aggregator.bind(spec);
    return aggregator;
  };

  describe(`Aggregator contract: ${name}`, () => {
    test('has a name', () => {
      expect(create().name).toMatch(/\S/);
    });

    test('refuses begin() before bind()', () => {
      expect(() => create().begin(1)).toThrow();
    });

    test('finish() gives the weighted mean of the committed updates from several clients', async () => {
      const round = bound().begin(1);
      for (const u of updates) await contribute(round, u);
      const result = round.finish();
      expectClose(result.mean, weightedMean(updates));
      expect(result.totalWeight).toBe(45);
      expect([...result.contributors].sort()).toEqual(['a', 'b', 'c']);
    });

    test('a round where nobody contributed gives mean undefined', () => {
      const result = bound().begin(1).finish();
      expect(result.mean).toBeUndefined();
      expect(result.totalWeight).toBe(0);
      expect(result.contributors).toEqual([]);
    });

    test('an aborted update leaves no trace in the mean', async () => {
      const round = bound().begin(1);
      await contribute(round, updates[0]!);
      const dropped = await round.accept('dropped', 1_000);
      writeInPieces(dropped, [9, 9, 9, 9, 9, 9]);
      dropped.abort('client disconnected');
      await contribute(round, updates[1]!);
      const result = round.finish();
      expectClose(result.mean, weightedMean(updates.slice(0, 2)));
      expect(result.totalWeight).toBe(40);
      expect(result.contributors).not.toContain('dropped');
    });

    test('each round starts from zero: nothing carries over from the previous round', async () => {
      const aggregator = bound();
      const first = aggregator.begin(1);
      await contribute(first, updates[0]!);
      first.finish();
      const second = aggregator.begin(2);
      await contribute(second, updates[2]!);
      const result = second.finish();
      expectClose(result.mean, updates[2]!.values);
      expect(result.contributors).toEqual(['c']);
    });

    test('a commit after finish() is refused and does not change the result', async () => {
      const round = bound().begin(1);
      await contribute(round, updates[0]!);
      const late = await round.accept('late', 1);
      writeInPieces(late, updates[1]!.values);
      const result = round.finish();
      expect(() => late.commit()).toThrow();
      expectClose(result.mean, updates[0]!.values);
      expect(result.contributors).toEqual(['a']);
    });
  });
}
