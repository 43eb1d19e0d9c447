import type { z } from 'zod';
import { partitionClientCount } from '../../client/partition/index.js';
import type { ExperimentConfig } from './experimentConfig.js';
import { ConfigError } from './loadConfig.js';

/** The parts of an experiment config that SCAFFOLD constrains. */
interface ScaffoldRelevant {
  readonly strategy: { readonly name: string; readonly totalClients?: number | undefined };
  readonly training: { readonly optimizer: string };
  readonly privacy?: unknown;
  readonly dpSgd?: unknown;
  readonly byzantine?: unknown;
}

/**
 * What SCAFFOLD (Karimireddy et al. 2020, option II) cannot combine with, refused when the config is read:
 * client optimizers other than plain SGD (the control update divides the drift by K eta_l), any DP (delta_c
 * = -c - delta_y / (K eta_l) gives the unclipped delta_y back), and simulated clients whose trainers do not
 * take the gradient correction (DP-SGD, Byzantine wrappers).
 */
export function checkScaffoldConfig(c: ScaffoldRelevant, clientCount: number | undefined, ctx: z.RefinementCtx): void {
  if (c.strategy.name !== 'scaffold') {
    if (c.strategy.totalClients !== undefined) ctx.addIssue({ code: 'custom', path: ['strategy', 'totalClients'], message: 'only scaffold uses totalClients' });
    return;
  }
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (c.training.optimizer !== 'sgd') issue(['training', 'optimizer'], `scaffold needs optimizer: sgd (its control update assumes plain SGD steps), got ${c.training.optimizer}`);
  if (c.privacy !== undefined) issue(['privacy'], "scaffold cannot run with client-level DP: its control update delta_c reveals the unclipped model update");
  if (c.dpSgd !== undefined) issue(['dpSgd'], "scaffold's gradient correction is not combined with DP-SGD");
  if (c.byzantine !== undefined) issue(['byzantine'], 'Byzantine simulated clients do not implement scaffold\'s corrected training');
  const n = c.strategy.totalClients;
  if (n !== undefined && clientCount !== undefined && n < clientCount) {
    issue(['strategy', 'totalClients'], `must be at least the number of clients (${clientCount}): N is the federation's size`);
  }
}

/**
 * SCAFFOLD's N: `strategy.totalClients`, else the federation the config describes (simulated clients, a
 * partition, or the allowlist's clients). An open coordinator does not know its size, so N must be given.
 */
export function scaffoldTotalClients(config: ExperimentConfig): number {
  const listed =
    config.partition ? partitionClientCount(config.partition)
    : config.clients ? config.clients.length
    : config.access?.mode === 'allowlist' ? config.access.peers.filter((p) => p.role === 'client').length
    : undefined;
  const n = config.strategy.totalClients ?? listed;
  if (n === undefined || n < 1) throw new ConfigError('strategy.totalClients (N, the number of clients in the federation) is required for scaffold when the config lists no clients, partition or allowlisted clients');
  return n;
}
