import type { NamedTensor, Weights } from '../protocol/tensors.js';

/** L2 norm over every tensor of an update, accumulated in float64. */
export function l2Norm(weights: Weights): number {
  let squares = 0;
  for (const t of weights) for (const v of t.data) squares += v * v;
  return Math.sqrt(squares);
}

/**
 * The factor that brings an update of L2 norm `norm` within `clipNorm`: min(1, C / norm). A zero norm needs
 * no scaling (and is never divided by).
 */
export function clipFactor(norm: number, clipNorm: number): number {
  if (!(clipNorm > 0)) throw new RangeError(`clip norm must be positive, got ${clipNorm}`);
  return norm > clipNorm ? clipNorm / norm : 1;
}

/** Returns the update scaled to L2 norm at most `clipNorm` (a copy), with its original norm. */
export function clipToNorm(weights: Weights, clipNorm: number): { weights: Weights; norm: number; clipped: boolean } {
  const norm = l2Norm(weights);
  const factor = clipFactor(norm, clipNorm);
  if (factor === 1) return { weights, norm, clipped: false };
  return {
    weights: weights.map((t): NamedTensor => ({ name: t.name, shape: [...t.shape], data: t.data.map((v) => v * factor) })),
    norm,
    clipped: true,
  };
}
