import type { Logger } from 'pino';
import { momentsSpec, standardizationFromMoments } from '../protocol/featureMoments.js';
import type { Weights } from '../protocol/tensors.js';
import { StreamingMean } from './aggregation/streamingMean.js';
import type { ClientRegistry } from './clientRegistry.js';
import { collectTasks } from './collectTasks.js';
import type { EncodedWeights } from './encodedWeights.js';
import type { TaskFailure } from './strategy.js';
import { tensorUploadTarget } from './uploadTarget.js';

export class StandardizationError extends Error {
  override readonly name = 'StandardizationError';
}

/**
 * Round 0 of an experiment with federated standardization: every connected client streams its feature
 * moments (weighted by its training rows) into a streaming mean, the same way updates are aggregated; the
 * coordinator turns the result into one mean and std for the whole federation. No rows leave a client.
 */
export async function computeFederatedStandardization(
  registry: ClientRegistry,
  features: number,
  deadlineMs: number,
): Promise<{ standardization: Weights; contributors: string[]; rows: number; failures: TaskFailure[] }> {
  const spec = momentsSpec(features);
  // Raw feature moments (squares of unscaled values) may exceed any fixed-point range: a float sum takes any magnitude.
  const mean = new StreamingMean({ slots: 2, accumulator: 'double-double' });
  mean.bind(spec);
  const round = mean.begin(0);
  const tasks = registry.summaries().map((client) => ({ client }));
  const { reports, failures } = await collectTasks(tasks, registry, (session, _task, taskId) => session.statistics(taskId, tensorUploadTarget(round, spec, 'the feature moments')), deadlineMs, 'statistics');
  const aggregate = round.finish();
  if (!aggregate.mean) {
    const why = failures.map((f) => `${f.client.name}: ${f.detail}`).join('; ');
    throw new StandardizationError(`no client sent feature statistics${why ? ` (${why})` : ''}`);
  }
  return {
    standardization: standardizationFromMoments(aggregate.mean, aggregate.totalWeight),
    contributors: reports.map((r) => r.client.name),
    rows: aggregate.totalWeight,
    failures,
  };
}

/** Sends the standardization to every connected client that has not applied it yet (late joiners, reconnects). */
export async function distributeStandardization(registry: ClientRegistry, encoded: EncodedWeights, log: Logger): Promise<void> {
  const pending = registry.all().filter((s) => s.open && !s.standardized);
  await Promise.all(
    pending.map((s) =>
      s.standardize(encoded).catch((e: unknown) => {
        log.warn({ client: s.summary.name, error: (e as Error).message }, 'client did not apply the standardization; it sits out until it does');
      }),
    ),
  );
}
