import { TASK_EXTRAS } from '../../protocol/taskExtras.js';
import { FedAvg, type FedAvgOptions } from './fedAvg.js';
import { checkNonNegative } from './strategyOptions.js';

/** The `FitInstructions.extra` key that carries mu to the clients. */
export const PROXIMAL_MU_KEY = TASK_EXTRAS.proximalMu;

export interface FedProxOptions extends FedAvgOptions {
  /**
   * mu >= 0, the weight of the proximal term (mu / 2) ||w - w^t||^2 in each client's local objective. No
   * default, as in Flower and FLamby: Li et al. tune it per task over {0.001, 0.01, 0.1, 1}. 0 is FedAvg.
   */
  readonly proximalMu: number;
}

/**
 * FedProx (Li, Sahu, Zaheer, Sanjabi, Talwalkar and Smith 2020, "Federated Optimization in Heterogeneous
 * Networks", MLSys). The server is FedAvg's (Algorithm 2 averages the clients' models); what changes is the
 * clients' objective, h_k(w) = F_k(w) + (mu / 2) ||w - w^t||^2. The strategy tells them mu through
 * `FitInstructions.extra.proximalMu`; the trainer contract is:
 *
 * - at the start of fit, keep a copy w^t of the weights the round set (the global model);
 * - at every local step, add mu (w - w^t) to each variable's gradient (`proximalGradientTerm`) before the
 *   optimizer applies it; equivalently, minimize loss + `proximalPenalty` summed over the tensors;
 * - report the data loss F_k as the `loss` metric (comparable with FedAvg runs); the penalty may go in
 *   its own metric;
 * - a missing or 0 `proximalMu` is plain FedAvg training.
 *
 * Sum-based (the server needs only the mean delta): every secure-aggregation mode works.
 */
export class FedProx extends FedAvg {
  override readonly name: string = 'fedprox';
  /** mu, sent to the clients with every fit task. */
  readonly proximalMu: number;

  constructor(options: FedProxOptions) {
    const proximalMu = checkNonNegative('proximalMu', options.proximalMu);
    super({ ...options, fit: { ...options.fit, extra: { ...options.fit.extra, [PROXIMAL_MU_KEY]: proximalMu } } });
    this.proximalMu = proximalMu;
  }
}
