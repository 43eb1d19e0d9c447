import { collectTasks } from '../../coordinator/collectTasks.js';
import { encodeGlobal } from '../../coordinator/encodeGlobal.js';
import type { RunStore } from '../../coordinator/store/runStore.js';
import type { FitPayloadShape } from '../../coordinator/strategy.js';
import { tensorUploadTarget } from '../../coordinator/uploadTarget.js';
import { weightsHash } from '../../coordinator/weightsHash.js';
import { encodedByteLength } from '../../protocol/tensorCodec.js';
import { specOf, type Weights } from '../../protocol/tensors.js';
import type { EncodedWeights } from '../../coordinator/clientSession.js';
import type { CoordinatorMode, ModeContext, ModeDefinition } from '../mode.js';

/**
 * Plain mode's coordinator half: it holds the global model, streams it (or the strategy's fit payload, e.g.
 * SCAFFOLD's [x; c]) in the clear, sums decoded updates in its aggregator, and lets the strategy's
 * aggregateFit make the next model. The coordinator sees every update.
 */
class PlainCoordinator implements CoordinatorMode {
  readonly name = 'plain' as const;
  readonly maxUploadBytes: number;
  private global: Weights;
  private readonly payload: FitPayloadShape | undefined;
  private readonly aggregator;
  private readonly uploadSpec;
  private encoded: { readonly of: Weights; readonly payload: EncodedWeights } | undefined;

  constructor(private readonly context: ModeContext) {
    const { strategy, initialWeights } = context;
    this.payload = strategy.capabilities.payload;
    const spec = specOf(initialWeights);
    this.uploadSpec = this.payload ? this.payload.uploadSpec(spec) : spec;
    this.maxUploadBytes = encodedByteLength(this.uploadSpec);
    this.aggregator = strategy.createAggregator();
    this.aggregator.bind(this.uploadSpec);
    this.global = strategy.initialize(initialWeights);
  }

  async prepare(): Promise<void> {}

  ready(): boolean {
    return true;
  }

  async fit(round: number, tasks: Parameters<CoordinatorMode['fit']>[1], registry: Parameters<CoordinatorMode['fit']>[2], deadlineMs: number) {
    const { strategy, chunkBytes } = this.context;
    const weights = this.payload ? encodeGlobal(this.payload.fitPayload(this.global), chunkBytes) : this.evaluationPayload();
    const aggregation = this.aggregator.begin(round);
    const target = tensorUploadTarget(aggregation, this.uploadSpec, 'the update');
    const { reports, failures } = await collectTasks(tasks, registry, (session, task, taskId) => session.fit(round, taskId, task.instructions, weights, target), deadlineMs, 'fit');
    const aggregate = aggregation.finish();
    return {
      reports,
      failures,
      commit: () => {
        const next = strategy.aggregateFit(round, this.global, aggregate, reports, failures);
        this.global = next.weights;
        const m = this.aggregator.measurements;
        return { metrics: next.metrics, measurements: { ...(m?.clipped !== undefined ? { clipped: m.clipped } : {}), ...(m?.adaptive ? { clipNorm: m.adaptive.clipNorm } : {}) } };
      },
    };
  }

  /** Encoded and hashed once per global: evaluate of round r and fit of round r + 1 stream the same bytes. */
  evaluationPayload() {
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

export const plainMode: ModeDefinition = {
  name: 'plain',
  protectsUpdates: false,
  refusal: () => undefined,
  createCoordinator: (context) => new PlainCoordinator(context),
};
