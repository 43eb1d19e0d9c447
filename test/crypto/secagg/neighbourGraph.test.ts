import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphSeed, neighbourGraph } from '../../../src/crypto/secagg/neighbourGraph.js';

const names = Array.from({ length: 100 }, (_, i) => `site-${String(i).padStart(3, '0')}`);

describe('the SecAgg+ neighbour graph', () => {
  it('is k-regular and symmetric', () => {
    const graph = neighbourGraph(names, 20, randomBytes(32));
    for (const [name, near] of graph) {
      expect(new Set(near).size).toBe(20);
      expect(near).not.toContain(name);
      for (const v of near) expect(graph.get(v)).toContain(name);
    }
  });

  it('is a function of the seed alone (every client computes the same), and another seed gives another graph', () => {
    const seed = randomBytes(32);
    const shuffled = [...names].reverse();
    expect(neighbourGraph(shuffled, 10, seed)).toEqual(neighbourGraph(names, 10, seed));
    expect(neighbourGraph(names, 10, randomBytes(32)).get('site-000')).not.toEqual(neighbourGraph(names, 10, seed).get('site-000'));
  });

  it('k = n - 1 is the complete graph (the original SecAgg); an odd k is refused', () => {
    const graph = neighbourGraph(names.slice(0, 5), 4, randomBytes(32));
    for (const near of graph.values()) expect(near).toHaveLength(4);
    expect(() => neighbourGraph(names, 5, randomBytes(32))).toThrow(/even integer/);
  });

  it('the seed binds the run, round, degree and every member key', () => {
    const members = names.slice(0, 4).map((name) => ({ name, encryptionKey: new Uint8Array(randomBytes(32)), maskKey: new Uint8Array(randomBytes(32)) }));
    const base = Buffer.from(graphSeed('run', 1, 2, members));
    expect(Buffer.from(graphSeed('run', 1, 2, [...members].reverse())).equals(base)).toBe(true);
    expect(Buffer.from(graphSeed('run', 2, 2, members)).equals(base)).toBe(false);
    expect(Buffer.from(graphSeed('run', 1, 2, [{ ...members[0]!, maskKey: new Uint8Array(32) }, ...members.slice(1)])).equals(base)).toBe(false);
    expect(() => graphSeed('run', 1, 2, [members[0]!, members[0]!])).toThrow(/twice/);
  });
});
