import { fillGaussian } from '../privacy/gaussianNoise.js';
import { clipFactor } from '../privacy/l2Clip.js';
import { instructedLayout, type EncryptedInstructions } from '../protocol/encryptedInstructions.js';
import { layoutLength, type EncryptedRoundState } from '../protocol/encryptedLayout.js';
import { specMismatch, specOf, type Weights } from '../protocol/tensors.js';

/** What this client uploads (before weighting) and what it may report in the clear. */
export interface EncryptedContribution {
  /** The layout's values: this client's version of the next model, momentum and log C. */
  readonly vector: Float32Array;
  /** The C this round clipped to (DP only): the same for every honest client, so it may be reported. */
  readonly clipNorm?: number;
}

/**
 * This client's part of the next encrypted state. With d = `delta` (local - global, after the fit chain's steps:
 * local DP's noise included), brought within C and given its
 * noise share under DP, the client uploads
 *   model:    w + lr * v_k          v_k = beta * v + d (v_k = d without momentum)
 *   momentum: v_k                  (FedAvgM only)
 *   log C:    log C - eta_C (b_k + n_k - gamma)   (adaptive clipping only; b_k = 1 when |d| <= C)
 * Every part is affine in d with coefficients all clients share, so the weighted mean the coordinator's
 * ciphertext sum yields is FedAvg(M)'s step on the mean delta, and Andrew et al.'s geometric step on the
 * noised unclipped fraction (noise shares n_k of std sigma_b / sqrt(m) sum to N(0, sigma_b^2)).
 */
export function encryptedContribution(state: EncryptedRoundState, delta: Weights, instructions: EncryptedInstructions): EncryptedContribution {
  const global = state.weights;
  const mismatch = specMismatch(specOf(global), specOf(delta));
  if (mismatch) throw new Error(`the trained model does not match the global: ${mismatch}`);
  const p = global.reduce((n, t) => n + t.data.length, 0);
  const layout = instructedLayout(instructions, p);
  if (layout.momentum && state.momentum && state.momentum.length !== p) throw new Error(`the momentum holds ${state.momentum.length} values, the model ${p}`);
  const vector = new Float32Array(layoutLength(layout));
  const { dp, serverLearningRate: lr, serverMomentum: beta } = instructions;
  // Two passes over the tensors (norm, then the upload) and noise drawn in blocks: no O(model) copies.
  let squares = 0;
  for (const t of delta) for (let i = 0; i < t.data.length; i++) squares += t.data[i]! ** 2;
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
  let drawn = 0; // noise values used from the current block
  let at = 0; // position in the flat layout
  for (const [k, t] of global.entries()) {
    const g = t.data;
    const d = delta[k]!.data;
    for (let i = 0; i < g.length; i++, at++, drawn++) {
      if (drawn === noise.length || at === 0) {
        if (noiseStd > 0) fillGaussian(noise, noiseStd);
        drawn = 0;
      }
      const step0 = d[i]! * factor + noise[drawn]!;
      const step = layout.momentum ? beta * (state.momentum?.[at] ?? 0) + step0 : step0;
      vector[at] = g[i]! + lr * step;
      if (layout.momentum) vector[p + at] = step;
    }
  }
  return { vector, ...(clipNorm !== undefined ? { clipNorm } : {}) };
}

/** Noise values drawn at a time (512 KiB of float64). */
const NOISE_BLOCK = 65_536;
