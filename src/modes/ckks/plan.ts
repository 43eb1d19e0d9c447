import { checkAdaptiveClipping, DEFAULT_CLIP_LEARNING_RATE, updateNoiseMultiplier, type AdaptiveClipping } from '../../privacy/adaptiveClipping.js';
import type { EncryptedInstructions } from '../../protocol/encryptedInstructions.js';
import type { EncryptedLayout } from '../../protocol/encryptedLayout.js';
import { CkksSetupError } from './keyDistribution.js';

/** How a run's CKKS rounds work: what the global packs, the step clients apply, and distributed DP. */
export interface EncryptedRoundPlan {
  readonly layout: EncryptedLayout;
  readonly step: { readonly serverLearningRate: number; readonly serverMomentum: number };
  /** Client-level DP: the clip norm (fixed or adaptive) and the noise multiplier z the sum must carry. */
  readonly dp?: { readonly clipNorm: number | AdaptiveClipping; readonly noiseMultiplier: number };
}

/** The plan for a strategy's linear step, model size and privacy setting; throws (saying what to change) when they cannot work. */
export function planEncryptedRounds(step: EncryptedRoundPlan['step'] | undefined, parameters: number, dp: EncryptedRoundPlan['dp']): EncryptedRoundPlan {
  if (!step) throw new CkksSetupError('the strategy names no step linear in the mean update for the clients to apply');
  const adaptive = dp && typeof dp.clipNorm !== 'number' ? dp.clipNorm : undefined;
  if (adaptive) {
    checkAdaptiveClipping(adaptive);
    updateNoiseMultiplier(dp!.noiseMultiplier, adaptive.countNoiseStd);
  } else if (dp && !((dp.clipNorm as number) > 0)) {
    throw new CkksSetupError(`the DP clip norm must be positive, got ${String(dp.clipNorm)}`);
  }
  return { layout: { parameters, momentum: step.serverMomentum > 0, logClipNorm: adaptive !== undefined }, step, ...(dp ? { dp } : {}) };
}

/**
 * What every client of an m-client cohort is told, apart from its weight. Distributed DP: the m noise shares
 * of std (z / sqrt(m)) C sum to the noise multiplier z; with adaptive clipping the sum takes z_delta and the
 * count sigma_b, split the same way (Andrew et al. 2021, Theorem 1).
 */
export function cohortInstructions(plan: EncryptedRoundPlan, cohort: number): Omit<EncryptedInstructions, 'weight'> {
  const { step, dp } = plan;
  const base = { cohortSize: cohort, serverLearningRate: step.serverLearningRate, serverMomentum: step.serverMomentum };
  if (!dp) return base;
  const root = Math.sqrt(cohort);
  if (typeof dp.clipNorm === 'number') return { ...base, dp: { clipNorm: dp.clipNorm, noiseShare: dp.noiseMultiplier / root } };
  const a = dp.clipNorm;
  return {
    ...base,
    dp: {
      clipNorm: { initialClipNorm: a.initialClipNorm, targetQuantile: a.targetQuantile, learningRate: a.learningRate ?? DEFAULT_CLIP_LEARNING_RATE, countNoiseShare: a.countNoiseStd / root },
      noiseShare: updateNoiseMultiplier(dp.noiseMultiplier, a.countNoiseStd) / root,
    },
  };
}

