import { describe, expect, it } from 'vitest';
import { byzantineClients, byzantineSpecSchema } from '../../../src/client/byzantine/index.js';

const names = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('byzantineSpecSchema and byzantineClients', () => {
  it('parses each attack and refuses unknown kinds and invalid parameters', () => {
    expect(byzantineSpecSchema.parse({ clients: 2, attack: { kind: 'random', norm: 10 } })).toEqual({ clients: 2, attack: { kind: 'random', norm: 10, seed: 0 } });
    expect(byzantineSpecSchema.parse({ clients: ['a'], attack: { kind: 'sign-flipped' } }).clients).toEqual(['a']);
    expect(byzantineSpecSchema.safeParse({ clients: 1, attack: { kind: 'scaled' } }).success).toBe(false);
    expect(byzantineSpecSchema.safeParse({ clients: 1, attack: { kind: 'random', norm: 0 } }).success).toBe(false);
    expect(byzantineSpecSchema.safeParse({ clients: 1, attack: { kind: 'label-flip' } }).success).toBe(false);
    expect(byzantineSpecSchema.safeParse({ clients: -1, attack: { kind: 'sign-flipped' } }).success).toBe(false);
  });

  it('picks a count of clients at random from the seed, or the named ones, in client order', () => {
    const spec = byzantineSpecSchema.parse({ clients: 3, attack: { kind: 'sign-flipped' } });
    const picked = byzantineClients(spec, names, 42);
    expect(picked).toHaveLength(3);
    expect(picked).toEqual(names.filter((n) => picked.includes(n)));
    expect(byzantineClients(spec, names, 42)).toEqual(picked);
    const seeds = new Set(Array.from({ length: 10 }, (_, s) => byzantineClients(spec, names, s).join()));
    expect(seeds.size).toBeGreaterThan(1);
    expect(byzantineClients({ ...spec, clients: ['e', 'b'] }, names, 1)).toEqual(['b', 'e']);
    expect(byzantineClients({ ...spec, clients: 0 }, names, 1)).toEqual([]);
  });

  it('refuses more attackers than clients and unknown names', () => {
    const spec = byzantineSpecSchema.parse({ clients: 7, attack: { kind: 'sign-flipped' } });
    expect(() => byzantineClients(spec, names, 1)).toThrow(/only 6 clients/);
    expect(() => byzantineClients({ ...spec, clients: ['a', 'z'] }, names, 1)).toThrow(/names z/);
  });
});
