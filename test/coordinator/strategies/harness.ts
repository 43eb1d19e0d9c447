import { expect } from 'vitest';
import type { AggregateResult, Aggregator } from '../../../src/coordinator/aggregation/aggregator.js';
import { type ClientSummary, type FitReport, type Metrics, type Strategy } from '../../../src/coordinator/strategy.js';
import { specOf, type Weights } from '../../../src/protocol/tensors.js';

export const fit = { epochs: 1, batchSize: 4, learningRate: 0.1 };

export function client(name: string, numTrainExamples = 10): ClientSummary {
  return { id: name, name, numTrainExamples, numTestExamples: 5, backend: 'js' };
}

export const clients = (n: number): ClientSummary[] => Array.from({ length: n }, (_, i) => client(`c${i}`));

/** Weights with one tensor per argument, named t0, t1, ... */
export function weights(...tensors: readonly (readonly number[])[]): Weights {
  return tensors.map((values, i) => ({ name: `t${i}`, shape: [values.length], data: Float32Array.from(values) }));
}

export const flat = (w: Weights): number[] => w.flatMap((t) => Array.from(t.data));

export interface Upload {
  readonly client: string;
  /** The example count it claims (default 1). */
  readonly weight?: number;
  readonly values: readonly number[];
  readonly metrics?: Metrics;
}

/** One aggregator per strategy, bound once and reused across rounds, as the coordinator does. */
const aggregators = new WeakMap<Strategy, Aggregator>();

function aggregatorOf(strategy: Strategy, global: Weights): Aggregator {
  let aggregator = aggregators.get(strategy);
  if (!aggregator) {
    aggregator = strategy.createAggregator();
    const model = specOf(global);
    aggregator.bind(strategy.capabilities.payload?.uploadSpec(model) ?? model);
    aggregators.set(strategy, aggregator);
  }
  return aggregator;
}

/** Streams the uploads (each in two pieces) through the strategy's own aggregator and finishes the round. */
export async function aggregateUploads(strategy: Strategy, global: Weights, uploads: readonly Upload[], round = 1): Promise<AggregateResult> {
  const aggregation = aggregatorOf(strategy, global).begin(round);
  for (const u of uploads) {
    const sink = await aggregation.accept(u.client, u.weight ?? 1);
    const values = Float32Array.from(u.values);
    const cut = Math.floor(values.length / 2);
    sink.write(0, values.subarray(0, cut));
    sink.write(cut, values.subarray(cut));
    sink.commit();
  }
  return aggregation.finish();
}

export function reportsOf(uploads: readonly Upload[]): FitReport[] {
  return uploads.map((u) => ({ client: client(u.client, u.weight ?? 1), numExamples: u.weight ?? 1, metrics: u.metrics ?? {} }));
}

/** One whole fit round: aggregate the uploads, then the strategy's aggregateFit. */
export async function runRound(strategy: Strategy, global: Weights, uploads: readonly Upload[], round = 1): Promise<{ weights: Weights; metrics: Metrics }> {
  const aggregate = await aggregateUploads(strategy, global, uploads, round);
  return strategy.aggregateFit(round, global, aggregate, reportsOf(uploads), []);
}

/** The same uploads from one client per row, weight 1 each. */
export const uploadsOf = (rows: readonly (readonly number[])[], weight = 1): Upload[] =>
  rows.map((values, i) => ({ client: String.fromCharCode(97 + i), weight, values }));

/** Element-wise toBeCloseTo (float32 results against float64 hand arithmetic). */
export function expectClose(actual: readonly number[], expected: readonly number[], digits = 6): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i]!, digits));
}
