import type { EvaluateReport, EvaluationSummary, Metrics } from '../strategy.js';

/** Example-weighted mean of losses and of every metric that all reports carry. */
export function weightedEvaluation(reports: readonly EvaluateReport[]): EvaluationSummary {
  const total = reports.reduce((s, r) => s + r.numExamples, 0);
  if (reports.length === 0 || total === 0) return { loss: undefined, metrics: {} };
  const loss = reports.reduce((s, r) => s + r.numExamples * r.loss, 0) / total;
  const names = Object.keys(reports[0]!.metrics).filter((k) => reports.every((r) => k in r.metrics));
  const metrics: Record<string, number> = {};
  for (const k of names) metrics[k] = reports.reduce((s, r) => s + r.numExamples * r.metrics[k]!, 0) / total;
  return { loss, metrics };
}

/** Example-weighted mean of fit metrics (e.g. training loss). */
export function weightedMetrics(reports: readonly { numExamples: number; metrics: Metrics }[]): Metrics {
  const total = reports.reduce((s, r) => s + r.numExamples, 0);
  if (reports.length === 0 || total === 0) return {};
  const names = Object.keys(reports[0]!.metrics).filter((k) => reports.every((r) => k in r.metrics));
  const out: Record<string, number> = {};
  for (const k of names) out[k] = reports.reduce((s, r) => s + r.numExamples * r.metrics[k]!, 0) / total;
  return out;
}
