import { z } from 'zod';
import { positiveInt } from './trainingConfig.js';


/** Strategies a config can name. */
export const STRATEGY_NAMES = ['fedavg', 'fedavgm', 'fedprox', 'fedadam', 'fedyogi', 'fedadagrad', 'fedmedian', 'fedtrimmedavg', 'krum', 'bulyan', 'scaffold'] as const;

export const strategySchema = z.strictObject({
  name: z.enum(STRATEGY_NAMES).default('fedavg'),
  /** fedavgm: server momentum beta. */
  serverMomentum: z.number().min(0).lt(1).optional(),
  /** fedadam, fedyogi, fedadagrad (Reddi et al. 2021): server learning rate, adaptivity, moment decays. */
  eta: z.number().positive().optional(),
  tau: z.number().positive().optional(),
  beta1: z.number().min(0).lt(1).optional(),
  beta2: z.number().min(0).lt(1).optional(),
  /** fedprox: the proximal term's weight mu (Li et al. 2020); clients add (mu / 2) ||w - w_round||^2 to their loss. */
  proximalMu: z.number().min(0).optional(),
  /** fedtrimmedavg: fraction trimmed at each end. */
  trimFraction: z.number().min(0).lt(0.5).optional(),
  /** krum, bulyan: Byzantine clients tolerated; krum's `keep` > 1 is Multi-Krum. */
  byzantine: z.number().int().min(0).optional(),
  keep: z.number().int().min(1).optional(),
  /** scaffold: N, every client of the federation (c moves by |S| / N); default: the clients, partition or allowlist. */
  totalClients: positiveInt.optional(),
  fractionFit: z.number().min(0).max(1).default(1),
  fractionEvaluate: z.number().min(0).max(1).default(1),
  minFitClients: positiveInt.default(2),
  minEvaluateClients: z.number().int().min(0).optional(),
  minAvailableClients: positiveInt.optional(),
  serverLearningRate: z.number().positive().default(1),
});
