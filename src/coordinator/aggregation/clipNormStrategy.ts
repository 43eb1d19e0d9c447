import { TASK_EXTRAS } from '../../protocol/taskExtras.js';
import type { Weights } from '../../protocol/tensors.js';
import type { AggregateResult } from './aggregator.js';
import type { DpMean } from './dpMean.js';
import type { ClientSummary, EvaluateReport, FitReport, FitTask, Strategy, TaskFailure } from '../strategy.js';
import type { SeededRng } from '../../protocol/seededRng.js';

/** What `withClipNorm` checkpoints: the inner strategy's state and the clip norm estimator's. */
export interface ClipNormStrategyState {
  /** The inner strategy's state. */
  readonly strategy?: unknown;
  /** The adaptive clip norm estimator's state. */
  readonly clipping?: unknown;
}

/**
 * The strategy half of server-side DP clipping: any strategy, aggregating through `aggregator` (a DpMean), whose
 * fit tasks carry the round's C as `extra.clipNorm` so clients clip before anything leaves their site (the
 * coordinator clips again). With adaptive clipping C moves every round, so it is read per round, never fixed
 * in the fit instructions; its estimator rides in the strategy's checkpointed state. Plaintext aggregation only:
 * clipping needs each update's norm, which CKKS and masked sums hide by design.
 * Inputs are never mutated: the tasks are new objects.
 */
export function withClipNorm(strategy: Strategy, aggregator: DpMean): Strategy {
  const evaluate = strategy.evaluate?.bind(strategy);
  return {
    name: strategy.name,
    minAvailableClients: strategy.minAvailableClients,
    minFitClients: strategy.minFitClients,
    minEvaluateClients: strategy.minEvaluateClients,
    // The coordinator clips each update (it needs each norm): what secure aggregation hides.
    capabilities: { ...strategy.capabilities, needs: 'each-update' },
    createAggregator: () => aggregator,
    initialize: (initial: Weights) => strategy.initialize(initial),
    configureFit(round: number, clients: readonly ClientSummary[], rng: SeededRng): FitTask[] {
      const clipNorm = aggregator.clipNormFor(round);
      return strategy.configureFit(round, clients, rng).map((t) => ({ ...t, instructions: { ...t.instructions, extra: { ...t.instructions.extra, [TASK_EXTRAS.clipNorm]: clipNorm } } }));
    },
    aggregateFit: (round: number, global: Weights, aggregate: AggregateResult, reports: readonly FitReport[], failures: readonly TaskFailure[], into?: Weights) =>
      strategy.aggregateFit(round, global, aggregate, reports, failures, into),
    configureEvaluate: (round: number, clients: readonly ClientSummary[], rng: SeededRng) => strategy.configureEvaluate(round, clients, rng),
    aggregateEvaluate: (round: number, reports: readonly EvaluateReport[], failures: readonly TaskFailure[]) => strategy.aggregateEvaluate(round, reports, failures),
    state: (): ClipNormStrategyState => ({ strategy: strategy.state?.(), clipping: aggregator.state }),
    restore(state: unknown): void {
      if (typeof state !== 'object' || state === null) throw new TypeError('a clip-norm strategy state must be an object { strategy, clipping }');
      const s = state as ClipNormStrategyState;
      if (s.strategy !== undefined) {
        if (!strategy.restore) throw new TypeError(`strategy ${strategy.name} has no state to restore`);
        strategy.restore(s.strategy);
      }
      aggregator.restore(s.clipping);
    },
    ...(evaluate ? { evaluate } : {}),
  };
}
