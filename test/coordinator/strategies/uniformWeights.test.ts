import { describe, expect, it } from 'vitest';
import { StreamingMean } from '../../../src/coordinator/aggregation/streamingMean.js';
import { UniformWeights } from '../../../src/coordinator/aggregation/uniformWeights.js';
import { aggregatorContract } from '../aggregatorContract.js';

const weighted = 'its mean is unweighted by design, so the weighted mean the test expects does not apply';
aggregatorContract('UniformWeights(StreamingMean)', () => new UniformWeights(new StreamingMean()), {
  skip: {
    'finish() gives the weighted mean of the committed updates from several clients': weighted,
    'an aborted update leaves no trace in the mean': weighted,
  },
});

describe('UniformWeights', () => {
  it('counts every client once, whatever example count it claims', async () => {
    // (1 * [2, 0] + 1 * [4, 6]) / 2 = [3, 3], where weights 1 and 3 would give [3.5, 4.5]
    const u = new UniformWeights(new StreamingMean());
    u.bind([{ name: 'w', shape: [2] }]);
    const round = u.begin(1);
    for (const [id, weight, values] of [
      ['a', 1, [2, 0]],
      ['b', 3, [4, 6]],
    ] as const) {
      const sink = await round.accept(id, weight);
      sink.write(0, Float32Array.from(values));
      sink.commit();
    }
    const result = round.finish();
    expect(Array.from(result.mean!)).toEqual([3, 3]);
    expect(result.totalWeight).toBe(2);
    expect(u.name).toBe('uniform(mean)');
  });

  it('still refuses a weight that is not positive and finite, with the inner message', async () => {
    const u = new UniformWeights(new StreamingMean());
    u.bind([{ name: 'w', shape: [1] }]);
    const round = u.begin(1);
    for (const w of [0, -1, NaN, Infinity]) await expect(round.accept('x', w)).rejects.toThrow(`update weight must be positive and finite, got ${w}`);
  });
});
