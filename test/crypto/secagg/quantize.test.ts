import { describe, expect, it } from 'vitest';
import { dequantizeSum, quantize, quantizationLevels } from '../../../src/crypto/secagg/quantize.js';

describe('quantization into Z_(2^bits)', () => {
  const p = { bits: 32, range: 4, cohort: 10 };

  it('leaves headroom: the sum of a full cohort at the range never wraps 2^bits', () => {
    const top = quantize(Float32Array.from({ length: 1000 }, () => 4), 1, p).values;
    let sum = 0;
    for (let c = 0; c < p.cohort; c++) sum += top[0]!;
    expect(sum).toBeLessThan(2 ** 32);
    expect(top[0]).toBe(quantizationLevels(p));
  });

  it('clips values beyond the range and counts them', () => {
    const q = quantize(Float32Array.of(5, -7, 3.9, 0), 1, p);
    expect(q.clipped).toBe(2);
    const back = dequantizeSum(q.values, 1, p);
    expect(back[0]).toBeCloseTo(4, 6);
    expect(back[1]).toBeCloseTo(-4, 6);
  });

  it('rounds stochastically without bias: the mean of many encodings of a value between levels is that value', () => {
    const levels = quantizationLevels(p);
    const step = (2 * p.range) / levels;
    const x = 0.3 * step; // 30% of the way from level L/2 to the next
    const q = quantize(new Float32Array(200_000).fill(x), 1, p).values;
    const distinct = new Set(q);
    expect(distinct.size).toBe(2);
    let total = 0;
    for (const v of q) total += v;
    const exactLevel = (x + p.range) / step;
    expect(Math.abs(total / q.length - exactLevel)).toBeLessThan(0.01);
    // Deterministic rounding would give one level only, and a mean 0.3 away from the exact one.
  });

  it('the dequantized sum of several clients is within a level of each value per client', () => {
    const values = [Float32Array.of(0.1, -2.5, 3), Float32Array.of(-0.3, 1.25, 0.5), Float32Array.of(2, 2, -3.75)];
    const sum = new Uint32Array(3);
    for (const v of values) quantize(v, 0.5, p).values.forEach((q, i) => (sum[i] = (sum[i]! + q) >>> 0));
    const back = dequantizeSum(sum, values.length, p);
    const step = (2 * p.range) / quantizationLevels(p);
    for (let i = 0; i < 3; i++) expect(Math.abs(back[i]! - 0.5 * values.reduce((s, v) => s + v[i]!, 0))).toBeLessThan(3 * step);
  });

  it('refuses settings that cannot hold the cohort, naming them', () => {
    expect(() => quantize(Float32Array.of(1), 1, { bits: 8, range: 1, cohort: 200 })).toThrow(/secaggplus.bits 8 cannot hold the sum of 200 clients' values .* the smallest that works for this cohort is 9/);
    expect(() => quantize(Float32Array.of(1), 1, { bits: 40, range: 1, cohort: 2 })).toThrow(/secaggplus.bits/);
    expect(() => quantize(Float32Array.of(Number.NaN), 1, p)).toThrow(/NaN/);
  });
});

