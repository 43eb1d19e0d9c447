import { AdaptiveFedOpt, type AdaptiveFedOptOptions, type AdaptiveHyperparameters, type SecondMomentRule } from './adaptiveFedOpt.js';

/**
 * Yogi's second moment: v_t = v_{t-1} - (1 - beta2) * Delta_t^2 * sign(v_{t-1} - Delta_t^2) (Reddi et al.
 * 2021, Algorithm 2; Zaheer et al. 2018). It moves v by at most (1 - beta2) Delta^2 towards Delta^2, so it
 * stays >= 0 from v_{-1} = tau^2.
 */
export const yogiSecondMoment: SecondMomentRule = (v, squared, beta2) => v - (1 - beta2) * squared * Math.sign(v - squared);

/** Flower's FedYogi defaults (FLamby's: eta 1e-2, tau 1e-3, beta2 0.999). */
export const FED_YOGI_DEFAULTS: AdaptiveHyperparameters = { eta: 1e-2, tau: 1e-3, beta1: 0.9, beta2: 0.99 };

/**
 * FedYogi: Reddi et al. 2021, "Adaptive Federated Optimization" (ICLR), Algorithm 2 with the Yogi rule.
 * Needs the mean in the clear (no step linear in it): plain mode, not CKKS (capabilities).
 */
export class FedYogi extends AdaptiveFedOpt {
  constructor(options: AdaptiveFedOptOptions) {
    super('fedyogi', options, FED_YOGI_DEFAULTS, yogiSecondMoment);
  }
}
