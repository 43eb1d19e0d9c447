import type { EncodedWeights } from '../coordinator/encodedWeights.js';
import { encodeGlobal } from '../coordinator/encodeGlobal.js';
import type { RunStore } from '../coordinator/store/runStore.js';
import { weightsHash } from '../coordinator/weightsHash.js';
import type { Weights } from '../protocol/tensors.js';
import type { Metrics } from '../coordinator/strategy.js';
import type { CoordinatorMode, ModeContext } from './mode.js';

/** A copy with arrays of its own: the caller's initial weights are never written. */
function copyWeights(weights: Weights): Weights {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape], data: t.data.slice() }));
}

/**
 * What every mode whose coordinator holds the global model in the clear (plain, secaggplus) does alike: stream
 * it, hand it to central evaluation, checkpoint and restore it whole. A mode adds how a fit round makes the
 * next global (`fit`, then `nextGlobal`).
 *
 * The global is the coordinator's own (the caller's initial weights are copied once, never written, unless
 * the caller hands them over: ModeContext.adoptInitialWeights), and
 * each round's step is written over it in place (aggregateFit's `into`): a round allocates no second model.
 * Whatever reads the global (central evaluation, the run's result) sees the current round's values until the next
 * round's step; a caller that keeps a round's model copies it.
 */
export abstract class ClearGlobalCoordinator implements Omit<CoordinatorMode, 'name' | 'maxUploadBytes' | 'fit'> {
  protected global: Weights;
  private encoded: { readonly payload: EncodedWeights } | undefined;

  constructor(protected readonly context: ModeContext) {
    const initial = context.strategy.initialize(context.initialWeights);
    const callers = new Set(context.initialWeights.map((t) => t.data.buffer));
    const aliased = initial.some((t) => callers.has(t.data.buffer));
    this.global = aliased && !context.adoptInitialWeights ? copyWeights(initial) : initial;
  }

  /**
   * The strategy's step from `aggregate`, written over the global where the strategy takes `into`; the encoded
   * global (whose chunks view the old values and whose hash is theirs) is dropped either way.
   */
  protected nextGlobal(step: (global: Weights, into: Weights) => { weights: Weights; metrics: Metrics }): Metrics {
    const next = step(this.global, this.global);
    this.global = next.weights;
    this.encoded = undefined;
    return next.metrics;
  }

  async prepare(): Promise<void> {}

  ready(): boolean {
    return true;
  }

  /** Encoded and hashed once per global: evaluate of round r and fit of round r + 1 stream the same bytes. */
  evaluationPayload(): EncodedWeights {
    this.encoded ??= { payload: this.encodeForClients() };
    return this.encoded.payload;
  }

  /** What clients are streamed of the global (encoded once per global): the model itself, unless a mode says otherwise. */
  protected encodeForClients(): EncodedWeights {
    return encodeGlobal(this.global, this.context.chunkBytes);
  }

  centralModel(): Weights {
    return this.global;
  }

  restore(store: RunStore) {
    const checkpoint = store.checkpoint(this.context.runId);
    if (!checkpoint) return undefined;
    this.global = checkpoint.weights;
    this.encoded = undefined;
    return { round: checkpoint.round, sha256: checkpoint.modelSha256, strategyState: checkpoint.strategyState };
  }

  checkpoint(store: RunStore, record: Parameters<CoordinatorMode['checkpoint']>[1], strategyState: unknown): string {
    return store.completeRound(this.context.runId, record, this.global, strategyState);
  }

  stateHash(): string {
    return weightsHash(this.global);
  }

  result() {
    return { weights: this.global };
  }

  close(): void {}
}
