import type { ClientOutcome, RoundRecord } from '../../../src/coordinator/roundRecord.js';

/** A client's evaluation: [name, accuracy, loss], or [name, 'failed']. */
export type Evaluation = readonly [client: string, accuracy: number | undefined, loss: number | undefined] | readonly [client: string, failed: 'failed'];

function outcome(e: Evaluation): ClientOutcome {
  if (e[1] === 'failed') return { client: e[0], failure: { reason: 'timeout', detail: 'no reply within 1000 ms' } };
  const [client, accuracy, loss] = e;
  return { client, numExamples: 10, ...(loss !== undefined ? { loss } : {}), metrics: accuracy !== undefined ? { accuracy } : {} };
}

/** A completed round whose federated evaluation reports `evaluations`; everyone fitted. */
export function roundRecord(round: number, evaluations: readonly Evaluation[], extra: Partial<RoundRecord> = {}): RoundRecord {
  const outcomes = evaluations.map(outcome);
  return {
    round,
    attempts: 1,
    fit: { selected: evaluations.length, outcomes: evaluations.map((e) => ({ client: e[0], numExamples: 10, metrics: { loss: 1 / round } })), metrics: { loss: 1 / round }, durationMs: 300 },
    evaluate: { loss: 0.5 / round, metrics: { accuracy: 0.5 + round / 100 }, outcomes, durationMs: 100 },
    durationMs: 400,
    ...extra,
  };
}
