import { addDiscreteGaussianNoise } from '../privacy/gaussianNoise.js';
import { clipToNorm } from '../privacy/l2Clip.js';
import { RdpAccountant } from '../privacy/rdpAccountant.js';
import type { Weights } from '../protocol/tensors.js';

/**
 * The Gaussian mechanism on a whole update (all tensors as one vector of L2 sensitivity `sensitivity`): the discrete
 * Gaussian mechanism of privacy/gaussianNoise.ts, noise std z times the sensitivity, from node:crypto.
 */
export function addGaussianNoise(weights: Weights, noiseMultiplier: number, sensitivity: number): Weights {
  const flat = new Float64Array(weights.reduce((n, t) => n + t.data.length, 0));
  let at = 0;
  for (const t of weights) {
    flat.set(t.data, at);
    at += t.data.length;
  }
  addDiscreteGaussianNoise(flat, { noiseMultiplier, sensitivity });
  at = 0;
  return weights.map((t) => {
    const data = Float32Array.from(flat.subarray(at, at + t.data.length));
    at += t.data.length;
    return { name: t.name, shape: [...t.shape], data };
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
    // A float32 update scaled to norm C has norm C (1 +- 2^-23 or so): 2^-20 covers it.
    const update = addGaussianNoise(clipToNorm(delta, clipNorm).weights, noiseMultiplier, clipNorm * (1 + 2 ** -20));
    this.accountant = this.accountant.step(1, noiseMultiplier);
    return { update, epsilon: this.accountant.epsilon(this.settings.delta).epsilon };
  }
}
