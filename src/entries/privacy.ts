/**
 * cohort-fl/privacy: the differential-privacy maths, apart from the plumbing. The RDP accountant for the subsampled
 * Gaussian mechanism and its conversion to (epsilon, delta), planning a noise multiplier for a target epsilon,
 * discrete Gaussian noise (CKS20, exact) and Poisson sampling from node:crypto, L2 clipping and adaptive clipping (Andrew et al. 2021).
 * The aggregator that applies them in a round (DpMean) is in cohort-fl/coordinator; DP-SGD in cohort-fl/client.
 *
 * @module cohort-fl/privacy
 */
import './requireSupportedNode.js';

export {
  initialRdpState,
  parseRdpState,
  RdpAccountant,
  rdpEpsilon,
  rdpStep,
  rdpWouldExceed,
  type BudgetCheck,
  type PrivacyBudget,
  type RdpLedgerEntry,
  type RdpState,
} from '../privacy/rdpAccountant.js';
export { epsilonFromRdp, RDP_CONVERSIONS, type EpsilonAtOrder, type RdpConversion } from '../privacy/rdpConversion.js';
export { noiseMultiplierForEpsilon, type NoiseMultiplierQuery, type NoiseMultiplierResult } from '../privacy/rdpNoiseMultiplier.js';
export { DEFAULT_RDP_ORDERS } from '../privacy/rdpOrders.js';
export {
  addDiscreteGaussianNoise,
  fillGaussian,
  gaussian,
  GRID_STEPS_LOG2,
  noiseGrid,
  type GaussianMechanism,
  type NoiseGrid,
  type NoiseReport,
} from '../privacy/gaussianNoise.js';
export { DiscreteGaussian, MAX_DISCRETE_SIGMA, sampleDiscreteGaussian } from '../privacy/discreteGaussian.js';
export { RandomWords } from '../privacy/randomWords.js';
export { poissonSubsample } from '../privacy/poissonSampling.js';
export { clipToNorm, l2Norm } from '../privacy/l2Clip.js';
export {
  nextClipNorm,
  parseAdaptiveClipState,
  updateNoiseMultiplier,
  type AdaptiveClipping,
  type AdaptiveClipState,
} from '../privacy/adaptiveClipping.js';
