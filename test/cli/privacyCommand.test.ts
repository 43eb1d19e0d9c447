import { describe, expect, it } from 'vitest';
import { parseAdjacency, parseConversion, PrivacyOptionError, runPrivacyEpsilon, runPrivacySigma } from '../../src/cli/privacyCommand.js';
import { RdpAccountant } from '../../src/privacy/rdpAccountant.js';

function capture(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = [];
  return { lines, print: (line) => lines.push(line) };
}

describe('cohort privacy epsilon', () => {
  it("prints the setting, the method and the optimal order, then epsilon alone on the last line (Opacus' 7.329)", () => {
    const { lines, print } = capture();
    // opacus/tests/accountants_test.py test_rdp_accountant: sigma 1.5, q 0.04, 2250 steps, delta 1e-5 -> 7.32911117143
    // (on Opacus' orders; the default grid adds 128, 256 and 512, which do not change this optimum at order 3.9).
    const eps = runPrivacyEpsilon({ q: 0.04, sigma: 1.5, steps: 2250, delta: 1e-5, adjacency: 'add-remove' }, print);
    expect(lines.at(-1)).toBe(String(eps));
    expect(Math.abs(Number(lines.at(-1)) - 7.32911117143) / 7.32911117143).toBeLessThan(1e-9);
    expect(lines.join('\n')).toMatch(/q = 0\.04, noise multiplier sigma = 1\.5, 2250 steps, delta = 0\.00001/);
    expect(lines.join('\n')).toMatch(/conversion to \(epsilon, delta\): improved/);
    expect(lines.join('\n')).toMatch(/optimal Rényi order: 3\.9 of 154 orders from 1\.1 to 512\n/);
  });

  it('uses the classic conversion on request, which gives a larger epsilon', () => {
    const a = capture();
    const b = capture();
    const improved = runPrivacyEpsilon({ q: 0.01, sigma: 1.1, steps: 1000, delta: 1e-5, adjacency: 'add-remove' }, a.print);
    const classic = runPrivacyEpsilon({ q: 0.01, sigma: 1.1, steps: 1000, delta: 1e-5, conversion: 'classic', adjacency: 'add-remove' }, b.print);
    expect(classic).toBeGreaterThan(improved);
    expect(b.lines.join('\n')).toMatch(/classic \(Mironov 2017/);
    expect(Number(b.lines.at(-1))).toBe(classic);
  });

  it('flags an optimum at the edge of the order grid', () => {
    const { lines, print } = capture();
    runPrivacyEpsilon({ q: 1, sigma: 1000, steps: 1, delta: 1e-5 }, print);
    expect(lines.join('\n')).toMatch(/order: 512 .*edge of the grid/);
  });

  it('rejects invalid options with the option named', () => {
    const { print } = capture();
    const base = { q: 0.01, sigma: 1, steps: 100, delta: 1e-5, adjacency: 'add-remove' };
    const bad: [Partial<typeof base> & { conversion?: string; adjacency?: string }, RegExp][] = [
      [{ q: 0 }, /--q must be a sampling rate in \(0, 1\]/],
      [{ q: 1.5 }, /--q must be/],
      [{ q: Number.NaN }, /--q must be a sampling rate in \(0, 1\] .*got something that is not a number/],
      [{ sigma: 0 }, /--sigma must be a noise multiplier > 0/],
      [{ sigma: -1 }, /--sigma/],
      [{ steps: 0 }, /--steps must be a whole number >= 1/],
      [{ steps: 2.5 }, /--steps/],
      [{ delta: 0 }, /--delta must be in \(0, 1\)/],
      [{ delta: 1 }, /--delta/],
      [{ conversion: 'tight' }, /--conversion must be one of improved, classic, got "tight"/],
      [{ adjacency: 'substitute' }, /--adjacency must be one of replace-one, add-remove, got "substitute"/],
      [{ adjacency: 'replace-one' }, /--adjacency replace-one \(client-level DP-FedAvg\) is accounted at --q 1 only: .*got --q 0\.01\. For record-level DP-SGD \(Poisson batches\), give --adjacency add-remove/],
    ];
    for (const [change, message] of bad) {
      expect(() => runPrivacyEpsilon({ ...base, ...change }, print), JSON.stringify(change)).toThrow(message);
      expect(() => runPrivacyEpsilon({ ...base, ...change }, print)).toThrow(PrivacyOptionError);
    }
  });
});

describe('cohort privacy sigma', () => {
  it('prints the smallest noise multiplier reaching the target, last, and it round-trips through epsilon', () => {
    const { lines, print } = capture();
    const sigma = runPrivacySigma({ epsilon: 8, q: 0.04, steps: 2250, delta: 1e-5, adjacency: 'add-remove' }, print);
    expect(lines.at(-1)).toBe(String(sigma));
    // Opacus accountants_test.py test_get_noise_multiplier_rdp_epochs: 1.416 (places=4), its bisection stopping
    // within 0.01 of epsilon 8 from above in sigma; the exact threshold is a little lower.
    expect(sigma).toBeLessThanOrEqual(1.416);
    expect(sigma).toBeGreaterThan(1.415);
    const back = runPrivacyEpsilon({ q: 0.04, sigma, steps: 2250, delta: 1e-5, adjacency: 'add-remove' }, capture().print);
    expect(back).toBeLessThanOrEqual(8);
    expect(back).toBeGreaterThan(8 - 1e-6);
  });

  it('explains an unreachable target and rejects invalid options', () => {
    const { print } = capture();
    expect(() => runPrivacySigma({ epsilon: 0.01, q: 1, steps: 10, delta: 1e-5, conversion: 'classic' }, print)).toThrow(/unreachable/);
    expect(() => runPrivacySigma({ epsilon: 0, q: 0.1, steps: 10, delta: 1e-5, adjacency: 'add-remove' }, print)).toThrow(/--epsilon must be a target epsilon > 0/);
    expect(() => runPrivacySigma({ epsilon: 1, q: 0, steps: 10, delta: 1e-5 }, print)).toThrow(/--q/);
    expect(() => runPrivacySigma({ epsilon: 1, q: 0.1, steps: -1, delta: 1e-5, adjacency: 'add-remove' }, print)).toThrow(/--steps/);
    expect(() => runPrivacySigma({ epsilon: 1, q: 0.1, steps: 10, delta: 2, adjacency: 'add-remove' }, print)).toThrow(/--delta/);
  });

  it('parses the conversion option', () => {
    expect(parseConversion(undefined)).toBe('improved');
    expect(parseConversion('classic')).toBe('classic');
    expect(() => parseConversion('Improved')).toThrow(PrivacyOptionError);
  });
});

describe('cohort privacy under replace-one adjacency (client-level DP-FedAvg, as a run charges it)', () => {
  it("is the default and charges sigma / 2: the issue's example, z 1.1, 10 rounds, q 1, delta 1e-5, is about 42.6, not 16.9", () => {
    const { lines, print } = capture();
    const eps = runPrivacyEpsilon({ q: 1, sigma: 1.1, steps: 10, delta: 1e-5 }, print);
    // Independent of the command: the accountant composing the Gaussian mechanism at multiplier 1.1 / 2.
    let halved = new RdpAccountant();
    let whole = new RdpAccountant();
    for (let t = 0; t < 10; t++) {
      halved = halved.step(1, 0.55);
      whole = whole.step(1, 1.1);
    }
    expect(eps).toBeCloseTo(halved.epsilon(1e-5).epsilon, 10);
    expect(eps).toBeCloseTo(42.6, 1);
    expect(whole.epsilon(1e-5).epsilon).toBeCloseTo(16.9, 1); // what add/remove gives, and a run printed before
    expect(runPrivacyEpsilon({ q: 1, sigma: 1.1, steps: 10, delta: 1e-5, adjacency: 'add-remove' }, capture().print)).toBeCloseTo(whole.epsilon(1e-5).epsilon, 10);
    expect(Number(lines.at(-1))).toBe(eps);
    expect(lines.join('\n')).toMatch(/adjacency: replace-one .*sensitivity 2C, so noise sigma x C is charged as multiplier sigma \/ 2/);
  });

  it('finds twice the add/remove multiplier for a target, and refuses q < 1 by default, naming the fix', () => {
    const { lines, print } = capture();
    const sigma = runPrivacySigma({ epsilon: 8, q: 1, steps: 10, delta: 1e-5 }, print);
    const addRemove = runPrivacySigma({ epsilon: 8, q: 1, steps: 10, delta: 1e-5, adjacency: 'add-remove' }, capture().print);
    expect(sigma).toBe(2 * addRemove);
    expect(Number(lines.at(-1))).toBe(sigma);
    const back = runPrivacyEpsilon({ q: 1, sigma, steps: 10, delta: 1e-5 }, capture().print);
    expect(back).toBeLessThanOrEqual(8);
    expect(back).toBeGreaterThan(8 - 1e-6);
    expect(() => runPrivacyEpsilon({ q: 0.1, sigma: 1.1, steps: 100, delta: 1e-5 }, capture().print)).toThrow(
      /--adjacency replace-one \(client-level DP-FedAvg, the default\) is accounted at --q 1 only: cohorts are drawn from a public seed.*give --adjacency add-remove/,
    );
    expect(parseAdjacency(undefined, 1)).toBe('replace-one');
    expect(parseAdjacency('add-remove', 0.5)).toBe('add-remove');
  });
});
