import { describe, expect, it } from 'vitest';
import { dropoutSchedule } from '../../../src/client/dropouts/dropoutSchedule.js';

const names = Array.from({ length: 100 }, (_, i) => `client-${i}`);

describe('dropoutSchedule', () => {
  it('each round, a fresh round(n x fraction) of the clients leave before upload and others after, none twice', () => {
    const schedule = dropoutSchedule(names, { beforeUpload: 0.1, afterUpload: 0.3, seed: 42 });
    const one = schedule.at(1);
    expect(one.beforeUpload).toHaveLength(10);
    expect(one.afterUpload).toHaveLength(30);
    expect(new Set([...one.beforeUpload, ...one.afterUpload]).size).toBe(40);
    // Another round draws another set; the plan per client agrees with the round's lists.
    expect(schedule.at(2).beforeUpload).not.toEqual(one.beforeUpload);
    for (const n of names) {
      const step = schedule.leaveAt(n)(1);
      expect(step).toBe(one.beforeUpload.includes(n) ? 'before-upload' : one.afterUpload.includes(n) ? 'after-upload' : undefined);
    }
  });

  it('is deterministic from the seed (and independent of the order the names come in), and another seed differs', () => {
    const a = dropoutSchedule(names, { beforeUpload: 0.1, afterUpload: 0.3, seed: 7 });
    const b = dropoutSchedule([...names].reverse(), { beforeUpload: 0.1, afterUpload: 0.3, seed: 7 });
    const c = dropoutSchedule(names, { beforeUpload: 0.1, afterUpload: 0.3, seed: 8 });
    for (const round of [1, 2, 3]) expect(b.at(round)).toEqual(a.at(round));
    expect(c.at(1)).not.toEqual(a.at(1));
  });

  it('limits the dropouts to the rounds named', () => {
    const s = dropoutSchedule(names, { beforeUpload: 0.5, afterUpload: 0, seed: 1, rounds: [2] });
    expect(s.at(1)).toEqual({ beforeUpload: [], afterUpload: [] });
    expect(s.at(2).beforeUpload).toHaveLength(50);
    expect(names.filter((n) => s.leaveAt(n)(3) !== undefined)).toEqual([]);
  });

  it('refuses fractions that cannot be, naming the setting', () => {
    expect(() => dropoutSchedule(names, { beforeUpload: -0.1, afterUpload: 0, seed: 1 })).toThrow(/dropouts.beforeUpload must be a fraction from 0 to 1, got -0.1/);
    expect(() => dropoutSchedule(names, { beforeUpload: 0.6, afterUpload: 0.5, seed: 1 })).toThrow(/must not exceed 1, got 0.6 \+ 0.5/);
    expect(() => dropoutSchedule(['a', 'a'], { beforeUpload: 0.1, afterUpload: 0, seed: 1 })).toThrow(/distinct/);
  });
});
