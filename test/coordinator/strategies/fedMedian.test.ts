import { describe, expect, it } from 'vitest';
import { FedMedian, coordinateMedian } from '../../../src/coordinator/strategies/fedMedian.js';
import { StreamingMean } from '../../../src/coordinator/aggregation/streamingMean.js';
import { specOf } from '../../../src/protocol/tensors.js';
import { fit, flat, reportsOf, runRound, uploadsOf, weights } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

const f32 = (...rows: number[][]) => rows.map((r) => Float32Array.from(r));

describe('FedMedian (Yin et al. 2018, coordinate-wise median)', () => {
  it('takes the middle value per coordinate for an odd count', () => {
    // columns {1, 3, 2} -> 2; {5, 0, 10} -> 5; {-2, 4, 0} -> 0
    expect(Array.from(coordinateMedian(f32([1, 5, -2], [3, 0, 4], [2, 10, 0])))).toEqual([2, 5, 0]);
  });

  it('averages the two middle values for an even count', () => {
    // sorted columns: {1, 2, 3, 10} -> 2.5; {-1, 0, 5, 10} -> 2.5; {-2, 0, 1, 4} -> 0.5
    expect(Array.from(coordinateMedian(f32([1, 5, -2], [3, 0, 4], [2, 10, 0], [10, -1, 1])))).toEqual([2.5, 2.5, 0.5]);
  });

  it('moves the model by the median delta, ignoring the claimed example counts', async () => {
    // deltas [1, 5, -2], [3, 0, 4], [2, 10, 0] -> median [2, 5, 0]; global [1, 1, 1] -> [3, 6, 1]
    // (with weights 1, 1000, 1 the weighted mean would be near [3, 0, 4])
    const s = new FedMedian({ fit, minFitClients: 1 });
    const uploads = [
      { client: 'a', weight: 1, values: [1, 5, -2] },
      { client: 'b', weight: 1000, values: [3, 0, 4] },
      { client: 'c', weight: 1, values: [2, 10, 0] },
    ];
    const next = await runRound(s, weights([1, 1, 1]), uploads);
    expect(flat(next.weights)).toEqual([3, 6, 1]);
  });

  it('scales the median delta by serverLearningRate', async () => {
    const s = new FedMedian({ fit, serverLearningRate: 0.5 });
    // median of {2, 4, 100} = 4; 0 + 0.5 * 4 = 2
    expect(flat((await runRound(s, weights([0]), uploadsOf([[2], [4], [100]]))).weights)).toEqual([2]);
  });

  it('is plain-only, and says what is wrong when its aggregate has no individual updates', async () => {
    const s = new FedMedian({ fit });
    expect(modesFor(s.capabilities)).toEqual(['plain']);
    expect(s.name).toBe('fedmedian');
    const global = weights([0, 0]);
    const mean = new StreamingMean();
    mean.bind(specOf(global));
    const round = mean.begin(1);
    const sink = await round.accept('a', 1);
    sink.write(0, Float32Array.from([1, 1]));
    sink.commit();
    expect(() => s.aggregateFit(1, global, round.finish(), reportsOf([{ client: 'a', values: [1, 1] }]), [])).toThrow(
      /fedmedian needs every client's update, but its aggregate carries only the mean/,
    );
  });

  it('refuses the aggregator option, which it would have to ignore or be blinded by', () => {
    expect(() => new FedMedian({ fit, aggregator: () => new StreamingMean() })).toThrow(
      'FedMedian does not take the aggregator option: it keeps every update (CollectAll) and combines them itself',
    );
  });

  it('keeps the model when nobody contributed', async () => {
    const global = weights([1]);
    expect((await runRound(new FedMedian({ fit }), global, [])).weights).toBe(global);
  });

  it('refuses to take the median of nothing', () => {
    expect(() => coordinateMedian([])).toThrow('the median of no updates is undefined');
  });

  it('sorts large columns too (more than 32 clients)', () => {
    // 41 clients with values 0..40 in reverse order: the median is 20
    const rows = Array.from({ length: 41 }, (_, i) => Float32Array.from([40 - i, i]));
    expect(Array.from(coordinateMedian(rows))).toEqual([20, 20]);
  });
});
