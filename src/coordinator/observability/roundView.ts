import type { ClientOutcome, RoundRecord } from '../roundRecord.js';
import type { ClientEvaluation, DroppedClient, RoundView } from './dashboardModel.js';

export interface RoundContext {
  readonly completedAt: Date;
  readonly failedAttempts?: readonly string[];
  readonly epsilon?: number;
}

function dropped(outcomes: readonly ClientOutcome[], phase: DroppedClient['phase']): DroppedClient[] {
  return outcomes.flatMap((o) => (o.failure ? [{ client: o.client, phase, reason: o.failure.reason, detail: o.failure.detail }] : []));
}

function evaluation(o: ClientOutcome): ClientEvaluation {
  const accuracy = o.metrics?.accuracy;
  return {
    client: o.client,
    ...(o.numExamples !== undefined ? { numExamples: o.numExamples } : {}),
    ...(o.loss !== undefined ? { loss: o.loss } : {}),
    ...(accuracy !== undefined ? { accuracy } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  };
}

/** A completed round as the dashboard and `/api/rounds` show it (pure; JSON-ready). */
export function toRoundView(record: RoundRecord, context: RoundContext): RoundView {
  const { fit, evaluate, central } = record;
  const completed = context.completedAt.getTime();
  const optional = {
    ...(evaluate ? { evaluateDurationMs: evaluate.durationMs, evaluateMetrics: evaluate.metrics } : {}),
    ...(evaluate?.loss !== undefined ? { loss: evaluate.loss } : {}),
    ...(evaluate?.metrics.accuracy !== undefined ? { accuracy: evaluate.metrics.accuracy } : {}),
    ...(central?.loss !== undefined ? { centralLoss: central.loss } : {}),
    ...(central?.metrics.accuracy !== undefined ? { centralAccuracy: central.metrics.accuracy } : {}),
    ...(context.epsilon !== undefined ? { epsilon: context.epsilon } : {}),
  };
  return {
    round: record.round,
    attempts: record.attempts,
    failedAttempts: context.failedAttempts ?? [],
    startedAt: new Date(completed - record.durationMs).toISOString(),
    completedAt: context.completedAt.toISOString(),
    durationMs: record.durationMs,
    fitDurationMs: fit.durationMs,
    selected: fit.selected,
    participants: fit.outcomes.filter((o) => !o.failure).map((o) => o.client),
    dropped: [...dropped(fit.outcomes, 'fit'), ...dropped(evaluate?.outcomes ?? [], 'evaluate')],
    trainMetrics: fit.metrics,
    clients: (evaluate?.outcomes ?? []).filter((o) => !o.failure).map(evaluation),
    ...optional,
  };
}
