import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hostRange, parseHostPart } from '../../../src/cli/host/hostPart.js';

describe('--part K/N', () => {
  it('parses K/N with 1 <= K <= N', () => {
    expect(parseHostPart('2/4')).toEqual({ number: 2, count: 4 });
    expect(parseHostPart(' 1 / 1 ')).toEqual({ number: 1, count: 1 });
  });

  it('refuses a part out of range or a malformed one, saying what to write', () => {
    expect(() => parseHostPart('5/4')).toThrow('--part 5/4: the part is out of range: parts count from 1 to 4 (a Kubernetes completion index i is part i+1)');
    expect(() => parseHostPart('0/4')).toThrow(/parts count from 1 to 4/);
    expect(() => parseHostPart('1/0')).toThrow('--part 1/0: the number of hosts must be at least 1');
    expect(() => parseHostPart('2')).toThrow('--part 2: write K/N, this host\'s part and the number of hosts (e.g. --part 2/4 for the second of four)');
    expect(() => parseHostPart('-1/4')).toThrow(/write K\/N/);
    expect(() => parseHostPart('1.5/4')).toThrow(/write K\/N/);
  });

  it('gives the N parts contiguous blocks that cover every client exactly once, sizes differing by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 64 }), (clients, count) => {
        fc.pre(count <= clients);
        const ranges = Array.from({ length: count }, (_, k) => hostRange({ number: k + 1, count }, clients));
        expect(ranges[0]!.start).toBe(0);
        expect(ranges[count - 1]!.end).toBe(clients);
        for (let k = 1; k < count; k++) expect(ranges[k]!.start).toBe(ranges[k - 1]!.end);
        const sizes = ranges.map((r) => r.end - r.start);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
    expect(hostRange({ number: 2, count: 4 }, 10_000)).toEqual({ start: 2_500, end: 5_000 });
  });

  it('refuses more hosts than clients', () => {
    expect(() => hostRange({ number: 1, count: 5 }, 4)).toThrow('--part 1/5: 5 hosts for 4 virtual clients would leave some hosts without any; run at most 4');
  });
});
