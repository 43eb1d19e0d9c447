import { clipToNorm } from '../../privacy/l2Clip.js';
import type { FitStep } from './fitChain.js';

/**
 * Central DP's client side in plaintext aggregation: the task names the round's C (`extra.clipNorm`) and the
 * update is clipped to it before it leaves (the coordinator clips again and adds the noise).
 */
export function clipStep(clipNorm: number): FitStep {
  return {
    name: 'clipping',
    run: async (task, next) => {
      const update = await next(task);
      return { ...update, delta: clipToNorm(update.delta, clipNorm).weights };
    },
  };
}
