import { fillGaussian } from '../privacy/gaussianNoise.js';
import { clipFactor } from '../privacy/l2Clip.js';
import { instructedLayout, type EncryptedInstructions } from '../protocol/encryptedInstructions.js';
import { layoutLength, type EncryptedRoundState } from '../protocol/encryptedLayout.js';
import type { Weights } from '../protocol/tensors.js';

function flatten(weights: Weights): Float32Array {
  const out = new Float32Array(weights.reduce((n, t) => n + t.data.length, 0));
  let at = 0;
  for (const t of weights) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

/** What this client uploads (before weighting) and what it may report in the clear. */
export interface EncryptedContribution {
  /** The layout's values: this client's version of the next model, momentum and log C. */
  readonly vector: Float32Array;
  /** The C this round clipped to (DP only): the same for every honest client, so it may be reported. */
  readonly clipNorm?: number;
}

/**
 * This client's part of the next encrypted state. With d = local - global, brought within C and given its
 * noise share under DP, the client uploads
 *   model:    w + lr * v_k          v_k = beta * v + d (v_k = d without momentum)
 *   momentum: v_k                  (FedAvgM only)
 *   log C:    log C - eta_C (b_k + n_k - gamma)   (adaptive clipping only; b_k = 1 when |d| <= C)
 * Every part is affine in d with coefficients all clients share, so the weighted mean the coordinator's
 * ciphertext sum yields is FedAvg(M)'s step on the mean delta, and Andrew et al.'s geometric step on the
 * noised unclipped fraction (noise shares n_k of std sigma_b / sqrt(m) sum to N(0, sigma_b^2)).
 */
export function encryptedContribution(state: EncryptedRoundState, local: Weights, instructions: EncryptedInstructions): EncryptedContribution {
  const global = flatten(state.weights);
  const trained = flatten(local);
  if (trained.length !== global.length) throw new Error(`the trained model has ${trained.length} parameters, the global ${global.length}`);
  const p = global.length;
  const layout = instructedLayout(instructions, p);
  if (layout.momentum && state.momentum && state.momentum.length !== p) throw new Error(`the momentum holds ${state.momentum.length} values, the model ${p}`);
  const vector = new Float32Array(layoutLength(layout));
  const { dp, serverLearningRate: lr, serverMomentum: beta } = instructions;
  // Two passes over the model (norm, then the upload) and noise drawn in blocks: no O(model) float64 copies.
  let squares = 0;
  for (let i = 0; i < p; i++) squares += (trained[i]! - global[i]!) ** 2;
  let factor = 1;
  let noiseStd = 0;
  let clipNorm: number | undefined;
  if (dp) {
    const adaptive = typeof dp.clipNorm === 'number' ? undefined : dp.clipNorm;
    clipNorm = adaptive ? (state.clipNorm ?? adaptive.initialClipNorm) : (dp.clipNorm as number);
    const norm = Math.sqrt(squares);
    factor = clipFactor(norm, clipNorm);
    noiseStd = dp.noiseShare * clipNorm;
    if (adaptive) {
      const unclipped = norm <= clipNorm ? 1 : 0;
      const countNoise = fillGaussian(new Float64Array(1), adaptive.countNoiseShare)[0]!;
      vector[vector.length - 1] = Math.log(clipNorm) - adaptive.learningRate * (unclipped + countNoise - adaptive.targetQuantile);
    }
  }
  const noise = new Float64Array(Math.min(p, NOISE_BLOCK));
  for (let from = 0; from < p; from += noise.length) {
    if (noiseStd > 0) fillGaussian(noise, noiseStd);
    const end = Math.min(p, from + noise.length);
    for (let i = from; i < end; i++) {
      const delta = (trained[i]! - global[i]!) * factor + noise[i - from]!;
      const step = layout.momentum ? beta * (state.momentum?.[i] ?? 0) + delta : delta;
      vector[i] = global[i]! + lr * step;
      if (layout.momentum) vector[p + i] = step;
    }
  }
  return { vector, ...(clipNorm !== undefined ? { clipNorm } : {}) };
}

/** Noise values drawn at a time (512 KiB of float64). */
const NOISE_BLOCK = 65_536;
