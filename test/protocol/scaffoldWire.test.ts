import { describe, expect, it } from 'vitest';
import { SCAFFOLD_CONTROL_PREFIX, joinScaffold, splitScaffold } from '../../src/protocol/scaffoldWire.js';
import { specOf } from '../../src/protocol/tensors.js';
import { flat, weights } from '../coordinator/strategies/harness.js';

describe("SCAFFOLD's wire layout", () => {
  it('join and split are inverse and check the layout', () => {
    const x = weights([1, 2], [3]);
    const c = weights([4, 5], [6]);
    const joined = joinScaffold(x, c);
    expect(joined.map((t) => t.name)).toEqual(['t0', 't1', `${SCAFFOLD_CONTROL_PREFIX}t0`, `${SCAFFOLD_CONTROL_PREFIX}t1`]);
    const { first, control } = splitScaffold(joined);
    expect(flat(first)).toEqual([1, 2, 3]);
    expect(flat(control)).toEqual([4, 5, 6]);
    expect(specOf(control)).toEqual(specOf(x));
    expect(() => splitScaffold(x.slice(0, 1))).toThrow('a SCAFFOLD payload has an even number of tensors, got 1');
    expect(() => splitScaffold(x)).toThrow(/lacks the "scaffold.control\/" prefix/);
    expect(() => joinScaffold(x, weights([1]))).toThrow(/control variate does not match the model/);
  });
});
