import { describe, expect, it } from 'vitest';
import { labelHistogram, shardPartition } from '../../../src/client/partition/index.js';
import { balancedLabels } from './fixtures.js';

describe('shardPartition (McMahan et al. 2017)', () => {
  it('gives each client 2 shards, hence at most 2 labels on a balanced dataset', () => {
    // MNIST's setting scaled down: 10 classes of 300 rows, 50 clients, 100 shards of 30 rows.
    const labels = balancedLabels(10, 300);
    for (const seed of [1, 2, 3]) {
      const parts = shardPartition(labels, { clients: 50, seed });
      expect(parts.every((p) => p.length === 60)).toBe(true);
      const held = labelHistogram(labels, parts, 10).map((counts) => counts.filter((n) => n > 0).length);
      expect(Math.max(...held)).toBeLessThanOrEqual(2);
      // Some clients draw two shards of one class; most hold two classes.
      expect(held.filter((n) => n === 2).length).toBeGreaterThan(25);
    }
  });

  it('holds at most shardsPerClient labels when shards do not straddle classes', () => {
    const labels = balancedLabels(10, 60);
    const parts = shardPartition(labels, { clients: 20, shardsPerClient: 3, seed: 5 });
    const held = labelHistogram(labels, parts, 10).map((counts) => counts.filter((n) => n > 0).length);
    expect(Math.max(...held)).toBeLessThanOrEqual(3);
  });

  it('refuses more shards than rows and invalid shard counts', () => {
    const labels = balancedLabels(2, 5);
    expect(() => shardPartition(labels, { clients: 6, seed: 1 })).toThrow(/12 shards, but the data has only 10 rows/);
    expect(() => shardPartition(labels, { clients: 2, seed: 1, shardsPerClient: 0 })).toThrow(/shardsPerClient/);
    expect(() => shardPartition(Float32Array.of(0, Number.NaN, 1, 1), { clients: 2, seed: 1 })).toThrow(/finite labels/);
  });
});
