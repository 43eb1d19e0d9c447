import { describe, expect, it } from 'vitest';
import { partitionClientCount, partitionRows, partitionSpecSchema, type PartitionSpecInput } from '../../../src/client/partition/index.js';
import { balancedLabels, coversEachRowOnce } from './fixtures.js';

/** The contract every partitioner keeps, run against each through the spec dispatcher. */
const specs: PartitionSpecInput[] = [
  { type: 'iid', clients: 7 },
  { type: 'dirichlet', clients: 7, alpha: 0.5 },
  { type: 'dirichlet', clients: 7, alpha: 0.5, selfBalancing: false, minSize: 0 },
  { type: 'shards', clients: 7 },
  { type: 'shards', clients: 7, shardsPerClient: 3 },
  { type: 'size', fractions: [0.5, 0.25, 0.125, 0.125] },
  { type: 'power-law', clients: 7, exponent: 1.2, minSize: 5 },
];
const labels = balancedLabels(10, 101); // 1,010 rows: no partitioner divides it evenly

describe.each(specs.map((s) => [JSON.stringify(s), partitionSpecSchema.parse(s)] as const))('partitioner %s', (_name, spec) => {
  it('assigns every row to exactly one client, one part per client', () => {
    const parts = partitionRows(spec, labels, 42);
    expect(parts).toHaveLength(partitionClientCount(spec));
    expect(coversEachRowOnce(parts, labels.length)).toBe(true);
    expect(parts.every((p) => p.length > 0)).toBe(true);
  });

  it('is a pure function of the seed: same seed, same partition; another seed, another', () => {
    const a = partitionRows(spec, labels, 7);
    expect(partitionRows(spec, labels, 7)).toEqual(a);
    expect(partitionRows(spec, labels, 8)).not.toEqual(a);
  });

  it('leaves its input untouched', () => {
    const copy = Float32Array.from(labels);
    partitionRows(spec, copy, 1);
    expect(copy).toEqual(labels);
  });

  it('refuses more clients than rows', () => {
    const few = labels.subarray(0, partitionClientCount(spec) - 1);
    expect(() => partitionRows(spec, few, 1)).toThrow(RangeError);
  });
});

describe('partitionSpecSchema', () => {
  it('fills defaults and refuses unknown keys and invalid values', () => {
    expect(partitionSpecSchema.parse({ type: 'dirichlet', clients: 3, alpha: 1 })).toEqual({
      type: 'dirichlet',
      clients: 3,
      alpha: 1,
      minSize: 10,
      selfBalancing: true,
      maxAttempts: 11,
    });
    expect(partitionSpecSchema.parse({ type: 'shards', clients: 3 })).toEqual({ type: 'shards', clients: 3, shardsPerClient: 2 });
    expect(partitionSpecSchema.safeParse({ type: 'dirichlet', clients: 3, alpha: 0 }).success).toBe(false);
    expect(partitionSpecSchema.safeParse({ type: 'iid', clients: 3, alpha: 1 }).success).toBe(false);
    expect(partitionSpecSchema.safeParse({ type: 'iid', clients: 0 }).success).toBe(false);
    expect(partitionSpecSchema.safeParse({ type: 'quantile', clients: 3 }).success).toBe(false);
  });
});
