import type { EncodedWeights } from '../coordinator/clientSession.js';
import { encodeGlobal } from '../coordinator/encodeGlobal.js';
import type { RunStore } from '../coordinator/store/runStore.js';
import { weightsHash } from '../coordinator/weightsHash.js';
import type { Weights } from '../protocol/tensors.js';
import type { CoordinatorMode, ModeContext } from './mode.js';

/**
 * What every mode whose coordinator holds the global model in the clear (plain, secaggplus) does alike: stream
 * it, hand it to central evaluation, checkpoint and restore it whole. A mode adds how a fit round makes the
 * next global (`fit`, assigning `this.global`).
 */
export abstract class ClearGlobalCoordinator implements Omit<CoordinatorMode, 'name' | 'maxUploadBytes' | 'fit'> {
  protected global: Weights;
  private encoded: { readonly of: Weights; readonly payload: EncodedWeights } | undefined;

  constructor(protected readonly context: ModeContext) {
    this.global = context.strategy.initialize(context.initialWeights);
  }

  async prepare(): Promise<void> {}

  ready(): boolean {
    return true;
  }

  /** Encoded and hashed once per global: evaluate of round r and fit of round r + 1 stream the same bytes. */
  evaluationPayload(): EncodedWeights {
    if (this.encoded?.of !== this.global) this.encoded = { of: this.global, payload: encodeGlobal(this.global, this.context.chunkBytes) };
    return this.encoded.payload;
  }

  centralModel(): Weights {
    return this.global;
  }

  restore(store: RunStore) {
    const checkpoint = store.checkpoint(this.context.runId);
    if (!checkpoint) return undefined;
    this.global = checkpoint.weights;
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
