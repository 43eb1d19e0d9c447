import type { LocalPrivacy } from '../updatePrivacy.js';
import type { FitStep } from './fitChain.js';

/**
 * This node's own local DP, in every mode: its update is clipped and noised with its own parameters before
 * anything else sees it, and the node accounts its epsilon.
 */
export function localDpStep(privacy: LocalPrivacy, onRelease: (round: number, epsilon: number) => void): FitStep {
  return {
    name: 'local DP',
    run: async (task, next) => {
      const update = await next(task);
      const { update: released, epsilon } = privacy.release(update.delta);
      onRelease(task.round, epsilon);
      return { ...update, delta: released };
    },
  };
}
