import { AdaptiveFedOpt, type AdaptiveFedOptOptions, type AdaptiveHyperparameters, type SecondMomentRule } from './adaptiveFedOpt.js';

/** Adagrad's second moment: v_t = v_{t-1} + Delta_t^2 (Reddi et al. 2021, Algorithm 2; beta2 plays no part). */
export const adagradSecondMoment: SecondMomentRule = (v, squared) => v + squared;

/** Flower's FedAdagrad defaults: beta1 = 0, so m_t = Delta_t (beta2 is unused). */
export const FED_ADAGRAD_DEFAULTS: AdaptiveHyperparameters = { eta: 1e-1, tau: 1e-9, beta1: 0, beta2: 0 };

/** The adaptive strategies' options without `beta2` (Adagrad's second moment sums squares, it does not decay). */
export type FedAdagradOptions = Omit<AdaptiveFedOptOptions, 'beta2'>;

/**
 * FedAdagrad: Reddi et al. 2021, "Adaptive Federated Optimization" (ICLR), Algorithm 2 with the Adagrad
 * rule. Needs the mean in the clear (no step linear in it): plain mode, not CKKS (capabilities).
 */
export class FedAdagrad extends AdaptiveFedOpt {
  constructor(options: FedAdagradOptions) {
    super('fedadagrad', options, FED_ADAGRAD_DEFAULTS, adagradSecondMoment);
  }
}
