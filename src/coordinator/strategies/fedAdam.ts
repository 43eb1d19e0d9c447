import { AdaptiveFedOpt, type AdaptiveFedOptOptions, type AdaptiveHyperparameters, type SecondMomentRule } from './adaptiveFedOpt.js';

/** Adam's second moment: v_t = beta2 * v_{t-1} + (1 - beta2) * Delta_t^2 (Reddi et al. 2021, Algorithm 2). */
export const adamSecondMoment: SecondMomentRule = (v, squared, beta2) => beta2 * v + (1 - beta2) * squared;

/** Flower's FedAdam defaults (FLamby's: eta 1e-2, tau 1e-3, beta2 0.999). */
export const FED_ADAM_DEFAULTS: AdaptiveHyperparameters = { eta: 1e-1, tau: 1e-9, beta1: 0.9, beta2: 0.99 };

/**
 * FedAdam: Reddi, Charles, Zaheer, Garrett, Rush, Konecny, Kumar and McMahan 2021, "Adaptive Federated
 * Optimization" (ICLR), Algorithm 2 with the Adam rule. Sum-based (it needs only the mean delta): plain mode or
 * a mode that gives the coordinator the mean, not CKKS (capabilities). Clients train with plain SGD in the paper.
 */
export class FedAdam extends AdaptiveFedOpt {
  constructor(options: AdaptiveFedOptOptions) {
    super('fedadam', options, FED_ADAM_DEFAULTS, adamSecondMoment);
  }
}
