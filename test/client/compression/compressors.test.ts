import { describe, expect, it } from 'vitest';
import { ErrorFeedback } from '../../../src/client/compression/errorFeedback.js';
import { quantizeInt8 } from '../../../src/client/compression/quantizeInt8.js';
import { topK } from '../../../src/client/compression/topK.js';
import { decompress } from '../../../src/protocol/compressedFormat.js';
import { INT8_BLOCK, topKCount } from '../../../src/protocol/compression.js';
import { createSeededRng } from '../../../src/protocol/seededRng.js';
import type { Weights } from '../../../src/protocol/tensors.js';

const spec = (n: number) => [{ name: 'w', shape: [n] }];

describe('8-bit quantization with stochastic rounding', () => {
  it('is unbiased, errs by less than one step, and never clips (the block maximum sits at the top level)', () => {
    const n = 2 * INT8_BLOCK + 100;
    const rng = createSeededRng(1);
    const x = Float32Array.from({ length: n }, () => (rng.nextFloat() - 0.5) * 2e-3);
    x[7] = 0.5; // an outlier: its block's step is 0.5 / 127, so the rest of the block rounds coarsely
    const draws = 1_000;
    const steps = quantizeInt8(x, spec(n), createSeededRng(0)).scales;
    const stepOf = (i: number) => steps[Math.floor(i / INT8_BLOCK)]!;
    const sum = new Float64Array(n);
    let worst = 0; // the largest error, in steps
    let topLevel = 0;
    for (let s = 0; s < draws; s++) {
      const q = quantizeInt8(x, spec(n), createSeededRng(100 + s));
      const d = decompress(q);
      for (let i = 0; i < n; i++) {
        worst = Math.max(worst, Math.abs(d[i]! - x[i]!) / stepOf(i));
        topLevel = Math.max(topLevel, Math.abs(q.levels[i]!));
        sum[i] = sum[i]! + d[i]!;
      }
      expect(Math.abs(q.levels[7]!)).toBeGreaterThanOrEqual(126); // the outlier sits at the top of its block's range
    }
    expect(worst).toBeLessThanOrEqual(1.000001);
    expect(topLevel).toBe(127);
    // The mean over draws converges to x: within 5 standard errors (each draw's error is below one step).
    let bias = 0; // the largest |mean - x|, in standard errors
    for (let i = 0; i < n; i++) bias = Math.max(bias, Math.abs(sum[i]! / draws - x[i]!) / (stepOf(i) / 2 / Math.sqrt(draws)));
    expect(bias).toBeLessThan(5);
    // A biased rounding (always down) would be caught: its mean error is about half a step.
    const down = Float32Array.from(x, (v, i) => Math.floor(v / stepOf(i)) * stepOf(i));
    expect(Math.max(...Array.from(down, (v, i) => Math.abs(v - x[i]!) / (stepOf(i) / 2 / Math.sqrt(draws))))).toBeGreaterThan(5);
  });

  it('gives the same levels for the same seed and others for another; a zero block stays zero; NaN is refused', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e-2);
    const a = quantizeInt8(x, spec(1000), createSeededRng(5));
    expect(quantizeInt8(x, spec(1000), createSeededRng(5)).levels).toEqual(a.levels);
    expect(quantizeInt8(x, spec(1000), createSeededRng(6)).levels).not.toEqual(a.levels);
    const zero = quantizeInt8(new Float32Array(600), spec(600), createSeededRng(1));
    expect(Array.from(zero.scales)).toEqual([0, 0]);
    expect(decompress(zero).every((v) => v === 0)).toBe(true);
    x[3] = Number.NaN;
    expect(() => quantizeInt8(x, spec(1000), createSeededRng(1))).toThrow('the update has a non-finite value (NaN) at 3: it cannot be compressed');
  });
});

describe('top-k sparsification', () => {
  it('keeps exactly the k largest magnitudes, indices ascending, ties to the lower index', () => {
    const x = Float32Array.from([0.1, -5, 3, 0, -3, 2, 3, -0.2]);
    const kept = topK(x, spec(8), 3);
    expect(Array.from(kept.indices)).toEqual([1, 2, 4]); // |-5|, then the first two of the three 3s
    expect(Array.from(kept.values)).toEqual([-5, 3, -3]);
    expect(Array.from(topK(x, spec(8), 8).indices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(() => topK(x, spec(8), 0)).toThrow('top-k needs k from 1 to 8, got 0');
    expect(topKCount(0.1, 101_770)).toBe(10_177);
    expect(topKCount(1e-9, 10)).toBe(1);
  });
});

describe('error feedback', () => {
  const weights = (data: Float32Array): Weights => [
    { name: 'a', shape: [data.length - 10], data: data.subarray(0, data.length - 10) },
    { name: 'b', shape: [10], data: data.subarray(data.length - 10) },
  ];

  it('delays what compression drops, never loses it: the uploads plus the residual sum to the updates, round after round', () => {
    const n = 5_000;
    const rng = createSeededRng(2);
    const feedback = new ErrorFeedback();
    const task = { options: { method: 'topk', fraction: 0.05 } as const, seed: 1 };
    const updates = new Float64Array(n);
    const uploads = new Float64Array(n);
    for (let round = 0; round < 6; round++) {
      const delta = Float32Array.from({ length: n }, () => rng.nextFloat() - 0.5);
      const compressed = feedback.compress(weights(delta), 'run-1', task);
      expect(compressed.compressed.method).toBe('topk');
      const decoded = [...compressed.decoded[0]!.data, ...compressed.decoded[1]!.data];
      expect(decoded.filter((v) => v !== 0).length).toBe(250);
      compressed.commit();
      for (let i = 0; i < n; i++) (updates[i] = updates[i]! + delta[i]!), (uploads[i] = uploads[i]! + decoded[i]!);
    }
    const residual = feedback.residual('run-1')!;
    for (let i = 0; i < n; i++) expect(uploads[i]! + residual[i]!).toBeCloseTo(updates[i]!, 4);
    // Without feedback 95 % of the mass would be gone; with it, what is still held is a fraction of the total sent.
    expect(residual.some((v) => v !== 0)).toBe(true);
  });

  it('keeps the residual only once the upload was sent, per run, and refuses a layout change within a run', () => {
    const feedback = new ErrorFeedback();
    const task = { options: { method: 'int8' } as const, seed: 9 };
    const delta = Float32Array.from({ length: 700 }, (_, i) => Math.cos(i) * 1e-3);
    const first = feedback.compress(weights(delta), 'run-1', task);
    expect(feedback.residual('run-1')).toBeUndefined(); // not sent: nothing kept
    first.commit();
    const held = feedback.residual('run-1')!;
    const decoded = [...first.decoded[0]!.data, ...first.decoded[1]!.data];
    expect(Array.from(held)).toEqual(Array.from(delta, (v, i) => Math.fround(v - decoded[i]!)));
    // The next round compresses delta + residual.
    const again = feedback.compress(weights(delta), 'run-1', task);
    const fresh = new ErrorFeedback().compress(weights(delta), 'run-1', task);
    expect(again.compressed).not.toEqual(fresh.compressed);
    expect(feedback.residual('run-2')).toBeUndefined(); // another run starts from zero
    expect(() => feedback.compress(weights(new Float32Array(300)), 'run-1', task)).toThrow(
      "this client's compression residual holds 700 values but the update has 300: the upload's layout changed within the run",
    );
  });
});
