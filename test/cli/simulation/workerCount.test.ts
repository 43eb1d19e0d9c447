import { describe, expect, it } from 'vitest';
import { balanceSlices, resolveWorkerCount } from '../../../src/cli/simulation/workerCount.js';

describe('resolveWorkerCount', () => {
  it('takes one thread per core under auto, never more than clients, and runs 0 or 1 in-process', () => {
    expect(resolveWorkerCount('auto', 1000, 8)).toBe(8);
    expect(resolveWorkerCount('auto', 3, 16)).toBe(3);
    expect(resolveWorkerCount('auto', 1000, 1)).toBe(0);
    expect(resolveWorkerCount(4, 1000, 2)).toBe(4); // an explicit count may oversubscribe the cores
    expect(resolveWorkerCount(4, 2, 8)).toBe(2);
    expect(resolveWorkerCount(1, 1000, 8)).toBe(0);
    expect(resolveWorkerCount(0, 1000, 8)).toBe(0);
    expect(() => resolveWorkerCount(-1, 10, 8)).toThrow(/whole number >= 0/);
  });
});

describe('balanceSlices', () => {
  it('deals every client once, evens the training rows, and leaves no worker empty', () => {
    // north 225, central 135, south 66 rows: the largest alone, the two smaller together.
    expect(balanceSlices([225, 135, 66], 2)).toEqual([[0], [1, 2]]);
    const slices = balanceSlices(Array.from({ length: 1000 }, () => 15), 3);
    expect(slices.map((s) => s.length)).toEqual([334, 333, 333]);
    expect(slices.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(balanceSlices([0, 0, 0], 3)).toEqual([[0], [1], [2]]);
  });
});
