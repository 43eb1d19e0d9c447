import { totalParameters, type TensorSpec } from '../../protocol/tensors.js';
import type { AggregateNeeds, AggregateResult, AggregationRound, Aggregator, UpdateSink } from './aggregator.js';
import { StreamingMean, type StreamingMeanOptions } from './streamingMean.js';

/** One committed client's whole update, as the robust rules (median, Krum, Bulyan) need it. */
export interface CollectedUpdate {
  /** The session id of the client that sent it. */
  readonly clientId: string;
  /** The weight it was accepted with (the client's claimed example count). */
  readonly weight: number;
  /** The flat update in the model spec's order (times the commit's scale, if any); owned by the result. */
  readonly values: Float32Array;
}

/** The mean, as every aggregator gives it, plus each committed update. */
export interface CollectedAggregateResult extends AggregateResult {
  /** Committed updates sorted by client id, so ties in a robust rule break the same way whatever the arrival order. */
  readonly updates: readonly CollectedUpdate[];
}

/** A round of CollectAll: its result carries each committed update, not only the mean. */
export interface CollectingRound extends AggregationRound {
  finish(): CollectedAggregateResult;
}

const byClientId = (a: CollectedUpdate, b: CollectedUpdate): number => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0);

/**
 * Keeps every committed client's full update, for the strategies whose rule needs each one (coordinate-wise
 * median and trimmed mean, Krum, Bulyan). Plain mode only: secure aggregation exists to hide exactly these.
 *
 * Memory: O(clients x model), 4 bytes a parameter per committed or in-flight update, on top of the inner
 * streaming mean (a double-double sum, 16 bytes a parameter, + 4 per staging slot). This is the one aggregator that breaks the
 * coordinator's O(model) memory rule, and the reason robust strategies declare `needs: 'each-update'` in their capabilities.
 *
 * Composition, not a copy of StreamingMean's checks: every piece goes through an inner StreamingMean first
 * (which checks place, length, NaN/Inf, staging, abort and the round's closing) and is copied out only once
 * the inner sink took it, so an update is kept exactly when the mean counted it.
 */
export class CollectAll implements Aggregator {
  readonly name = 'collect-all';
  private readonly inner: StreamingMean;
  private size = -1;

  constructor(options: StreamingMeanOptions = {}) {
    // A float sum: robust rules must take a huge (Byzantine) update in and reject it by their own rule, not by a range.
    this.inner = new StreamingMean({ accumulator: 'double-double', ...options });
  }

  bind(spec: readonly TensorSpec[], needs?: AggregateNeeds): void {
    this.inner.bind(spec, needs);
    this.size = totalParameters(spec);
  }

  begin(round: number): CollectingRound {
    const inner = this.inner.begin(round);
    const size = this.size;
    const updates: CollectedUpdate[] = [];
    return {
      accept: async (clientId, weight) => {
        const sink = await inner.accept(clientId, weight);
        const values = new Float32Array(size);
        const collecting: UpdateSink = {
          write: (offset, piece) => {
            sink.write(offset, piece); // throws (and frees its slot) on a misplaced or non-finite piece
            values.set(piece, offset);
          },
          commit: (scale) => {
            sink.commit(scale); // throws when incomplete, already finished, the round closed or scale is outside [0, 1]
            // A wrapper's scale (clipping's min(1, C / norm)) scales the update in the mean: keep what the mean counted.
            if (scale !== undefined && scale !== 1) for (let i = 0; i < size; i++) values[i]! *= scale;
            updates.push({ clientId, weight, values });
          },
          abort: (reason) => sink.abort(reason),
        };
        return collecting;
      },
      finish: (): CollectedAggregateResult => {
        const result = inner.finish();
        return { ...result, updates: [...updates].sort(byClientId) };
      },
    };
  }
}

/** The individual updates behind an aggregate, when its aggregator kept them (CollectAll); undefined otherwise. */
export function updatesOf(aggregate: AggregateResult): readonly CollectedUpdate[] | undefined {
  const updates = (aggregate as Partial<CollectedAggregateResult>).updates;
  return Array.isArray(updates) ? updates : undefined;
}
