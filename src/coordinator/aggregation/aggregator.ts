import type { TensorSpec } from '../../protocol/tensors.js';

/**
 * Receives one client's update as runs of float32 values, in order, while it streams in.
 * `commit` makes the whole update count; `abort` drops it without trace.
 */
export interface UpdateSink {
  /** Adds `values` at `offset` (in floats) of the flat update; runs arrive in order. */
  write(offset: number, values: Float32Array): void;
  /** `scale` multiplies this update's weight (a clipping wrapper passes min(1, C / norm)). */
  commit(scale?: number): void;
  /** Drops this update, as if it never arrived. */
  abort(reason: string): void;
}

/** What a round's aggregation produced: the weighted mean of the committed updates. */
export interface AggregateResult {
  /**
   * Flat weighted mean of the updates, in the model spec's order; undefined when nobody contributed. It may
   * share memory with the aggregator's staging: use it (or copy it) before the next round begins.
   */
  readonly mean: Float32Array | undefined;
  /** The sum of the committed weights (examples, times any commit scale). */
  readonly totalWeight: number;
  /** Client ids whose updates were committed. */
  readonly contributors: readonly string[];
  /**
   * The weighted sum the mean divides by totalWeight, in float64 (an aggregator that keeps one): what a DP wrapper
   * noises, since the float32 mean has lost the precision the noise's grid needs. Same lifetime as `mean`.
   */
  readonly sum?: Float64Array;
  /**
   * The unit every weighted value was rounded to before the exact sum (a fixed-point aggregator): `sum` errs from
   * the exact weighted sum by at most contributors x sumGrid / 2 per parameter, plus its float64 rounding.
   */
  readonly sumGrid?: number;
}

/** What a wrapper reads of an aggregator's results (Aggregator.bind). */
export interface AggregateNeeds {
  /** The float64 `sum`, not only the mean. */
  readonly sum?: boolean;
}

/** One round of aggregation: updates are accepted one client at a time, then the round finishes. */
export interface AggregationRound {
  /** Resolves when the aggregator has room for this client's update (bounded memory: callers may wait). */
  accept(clientId: string, weight: number): Promise<UpdateSink>;
  /** Closes the round: later commits are refused. */
  finish(): AggregateResult;
}

/**
 * The aggregation seam, TFF-style phases: construct with options, `bind` to the model's tensors (errors
 * before round 1), then one `begin` per round. Wrappers (clipping, DP noise, secure sums) implement the
 * same interface around an inner aggregator.
 */
export interface Aggregator {
  /** The aggregator's name, for logs (`mean`, `collect-all`...). */
  readonly name: string;
  /** What the last finished round measured (DP wrappers: updates clipped, the clip norm used), for the ledger. */
  readonly measurements?: { readonly clipped?: number; readonly adaptive?: { readonly clipNorm: number } };
  /**
   * The differential-privacy noise this aggregator adds to every round's sum, as a multiple of its clip norm (a DP
   * wrapper declares it): the coordinator refuses a run whose `privacy` multiplier no aggregator adds.
   */
  readonly dpNoise?: { readonly noiseMultiplier: number };
  /**
   * Fixes the model's tensors (names, shapes) before round 1; throws on a spec it cannot aggregate. `needs` is
   * what a wrapper will read of each result: `sum: true` (a DP wrapper noises the float64 sum) asks an aggregator
   * that can skip its `sum` to save memory to keep it; a wrapper forwards it to its inner aggregator.
   */
  bind(spec: readonly TensorSpec[], needs?: AggregateNeeds): void;
  /** Starts round `round`'s aggregation. */
  begin(round: number): AggregationRound;
}
