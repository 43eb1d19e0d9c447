import type { ClientRegistry } from './clientRegistry.js';
import type { EncodedWeights } from './clientSession.js';
import { collectTasks } from './collectTasks.js';
import type { EvaluateReport, EvaluateTask, TaskFailure } from './strategy.js';

/** Federated evaluation: every selected client scores the global model on its held-out data. */
export function runEvaluateRound(
  round: number,
  tasks: readonly EvaluateTask[],
  registry: ClientRegistry,
  weights: EncodedWeights,
  deadlineMs: number,
): Promise<{ reports: EvaluateReport[]; failures: TaskFailure[] }> {
  return collectTasks(tasks, registry, (session, task, taskId) => session.evaluate(round, taskId, task.batchSize, weights), deadlineMs, 'evaluate');
}
