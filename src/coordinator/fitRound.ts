import type { AggregateResult, Aggregator } from './aggregation/aggregator.js';
import type { ClientRegistry } from './clientRegistry.js';
import type { EncodedWeights } from './clientSession.js';
import { collectTasks } from './collectTasks.js';
import type { FitReport, FitTask, TaskFailure } from './strategy.js';

export interface FitRoundOutcome {
  readonly reports: FitReport[];
  readonly failures: TaskFailure[];
  readonly aggregate: AggregateResult;
}

/** Sends every fit task and streams arriving updates into the aggregator until the deadline. */
export async function runFitRound(
  round: number,
  tasks: readonly FitTask[],
  registry: ClientRegistry,
  aggregator: Aggregator,
  weights: EncodedWeights,
  deadlineMs: number,
): Promise<FitRoundOutcome> {
  const aggregation = aggregator.begin(round);
  const { reports, failures } = await collectTasks(
    tasks,
    registry,
    (session, task, taskId) => session.fit(round, taskId, task.instructions, weights, { aggregation }),
    deadlineMs,
    'fit',
  );
  return { reports, failures, aggregate: aggregation.finish() };
}
