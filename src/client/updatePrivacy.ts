import { fillGaussian } from '../privacy/gaussianNoise.js';
import { clipToNorm } from '../privacy/l2Clip.js';
import { RdpAccountant } from '../privacy/rdpAccountant.js';
import type { Weights } from '../protocol/tensors.js';
import { subtractWeights } from './weightDelta.js';

/** Adds Gaussian noise of standard deviation `std` (node:crypto) to every value of an update. */
export function addGaussianNoise(weights: Weights, std: number): Weights {
  return weights.map((t) => {
    const noise = fillGaussian(new Float32Array(t.data.length), std);
    return { name: t.name, shape: [...t.shape], data: t.data.map((v, i) => v + noise[i]!) };
  });
}

/**
 * Local DP (a node privatizes its own update with its own parameters): clip to C, add N(0, (zC)^2), and
 * account the node's epsilon over its releases (one Gaussian mechanism per round it trains in).
 */
export class LocalPrivacy {
  private accountant = new RdpAccountant();

  constructor(private readonly settings: { readonly clipNorm: number; readonly noiseMultiplier: number; readonly delta: number }) {
    const { clipNorm, noiseMultiplier, delta } = settings;
    if (!(noiseMultiplier > 0 && clipNorm > 0 && delta > 0 && delta < 1)) {
      throw new Error('localPrivacy.noiseMultiplier must be positive (without noise there is no privacy), clipNorm positive, and delta in (0, 1)');
    }
  }

  /** The privatized update and the epsilon this node has spent after releasing it. */
  release(delta: Weights): { update: Weights; epsilon: number } {
    const { clipNorm, noiseMultiplier } = this.settings;
    const update = addGaussianNoise(clipToNorm(delta, clipNorm).weights, noiseMultiplier * clipNorm);
    this.accountant = this.accountant.step(1, noiseMultiplier);
    return { update, epsilon: this.accountant.epsilon(this.settings.delta).epsilon };
  }
}

/**
 * This client's part of distributed DP under CKKS: global + clip(local - global) + N(0, std^2), from the
 * round's `clipNorm` and `dpNoiseStd`; the plain local model when the round asks for neither.
 */
export function shareOfNoise(global: Weights, local: Weights, extra: Readonly<Record<string, unknown>> | undefined): Weights {
  const clipNorm = extra?.clipNorm;
  const std = extra?.dpNoiseStd;
  if (typeof clipNorm !== 'number' || typeof std !== 'number') return local;
  const noisy = addGaussianNoise(clipToNorm(subtractWeights(local, global), clipNorm).weights, std);
  return noisy.map((t, i) => {
    const g = global[i]!.data;
    return { ...t, data: t.data.map((v, j) => g[j]! + v) };
  });
}
