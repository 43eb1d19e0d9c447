import { describe, expect, it } from 'vitest';
import { erfc, logErfc } from '../../src/privacy/logErfc.js';

// log(erfc(x)) to 20 digits, from mpmath 1.3 at 30 decimal digits (mpmath.log(mpmath.erfc(x))). The points straddle
// the implementation's branch changes (series below 2, continued fraction to 10, asymptotic expansion beyond) and go
// far past x = 27.3, where erfc itself underflows in doubles.
const REFERENCE: [number, number][] = [
  [-3, 0.69313613525044681032],
  [-1, 0.61123231767807049464],
  [0, 0],
  [0.5, -0.73501112983708440303],
  [1, -1.8496055099332482486],
  [1.9999, -5.3644994577735300858],
  [2, -5.3649412646166375745],
  [3, -10.720363041981112568],
  [5, -27.200889545537434422],
  [9.9999, -102.87787913238465535],
  [10, -102.87988902484488857],
  [27, -732.86888650789741098],
  [30, -903.97411711064387808],
  [100, -10005.177585122664333],
  [1e4, -100000009.7827053199],
  [1e8, -10000000000000018.993],
];

describe('logErfc', () => {
  it('matches mpmath to 1e-13 (relative error of erfc, or relative error of the log where it is large)', () => {
    for (const [x, expected] of REFERENCE) {
      const got = logErfc(x);
      // |log a - log b| bounds the relative error of erfc; where log erfc is huge, compare relatively instead.
      const err = Math.abs(expected) > 1 ? Math.abs(got - expected) / Math.abs(expected) : Math.abs(got - expected);
      expect(err, `x = ${x}: ${got} vs ${expected}`).toBeLessThan(1e-13);
    }
  });

  it('is finite where erfc underflows, and erfc agrees with it where it does not', () => {
    expect(erfc(30)).toBe(0);
    expect(Number.isFinite(logErfc(30))).toBe(true);
    expect(erfc(1)).toBeCloseTo(0.15729920705028513066, 15);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497148693, 15);
    expect(logErfc(-1e300)).toBeCloseTo(Math.log(2), 15);
    expect(logErfc(1e300)).toBe(-Infinity);
    expect(logErfc(Number.NaN)).toBeNaN();
  });

  it('is continuous and decreasing across its branch points (2 and 10)', () => {
    for (const b of [2, 10]) {
      const below = logErfc(b - 1e-9);
      const at = logErfc(b);
      expect(below).toBeGreaterThan(at);
      // d/dx log erfc(x) = -2/sqrt(pi) exp(-x^2) / erfc(x): a jump between branches would show as a mismatch.
      const slope = (2 / Math.sqrt(Math.PI)) * Math.exp(-b * b - at);
      expect(Math.abs(below - at - slope * 1e-9)).toBeLessThan(1e-12);
    }
  });
});
