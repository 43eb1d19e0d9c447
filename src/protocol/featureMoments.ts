import type { Weights } from './tensors.js';

/**
 * Federated standardization exchanges per-feature moments as tensors, so they travel through the same
 * codec and aggregators as model updates: clients send ("mean", "meanOfSquares") weighted by their row
 * count; the coordinator answers with ("mean", "std").
 */
export const MOMENT_NAMES = ['mean', 'meanOfSquares'] as const;
export const STANDARDIZATION_NAMES = ['mean', 'std'] as const;

export function momentsSpec(features: number) {
  return MOMENT_NAMES.map((name) => ({ name, shape: [features] }));
}

export function momentsWeights(mean: Float32Array, meanOfSquares: Float32Array): Weights {
  return [
    { name: 'mean', shape: [mean.length], data: mean },
    { name: 'meanOfSquares', shape: [meanOfSquares.length], data: meanOfSquares },
  ];
}

/**
 * Global mean and unbiased std from the row-weighted mean of clients' moments. A std of 0 marks a feature
 * that is constant across the federation (clients map it to 0). Variance is E[x^2] - E[x]^2, accumulated
 * in float64; features whose mean dwarfs their spread by more than ~1e3 lose precision in float32 moments.
 */
export function standardizationFromMoments(flatMean: Float32Array, totalRows: number): Weights {
  const features = flatMean.length / 2;
  const mean = new Float32Array(features);
  const std = new Float32Array(features);
  const correction = totalRows > 1 ? totalRows / (totalRows - 1) : 1;
  for (let j = 0; j < features; j++) {
    const m = flatMean[j]!;
    const variance = Math.max(0, flatMean[features + j]! - m * m) * correction;
    const s = Math.sqrt(variance);
    mean[j] = m;
    std[j] = s <= 1e-6 * (Math.abs(m) + 1) ? 0 : s;
  }
  return [
    { name: 'mean', shape: [features], data: mean },
    { name: 'std', shape: [features], data: std },
  ];
}
