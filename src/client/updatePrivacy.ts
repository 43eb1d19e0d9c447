import { fillGaussian } from '../privacy/gaussianNoise.js';
import { clipToNorm } from '../privacy/l2Clip.js';
import { RdpAccountant } from '../privacy/rdpAccountant.js';
import type { Weights } from '../protocol/tensors.js';

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
