import { createHash, randomInt } from 'node:crypto';
import { collectTasks } from '../../coordinator/collectTasks.js';
import { encodeGlobal } from '../../coordinator/encodeGlobal.js';
import type { FitPayloadShape, FitTask } from '../../coordinator/strategy.js';
import { tensorUploadTarget } from '../../coordinator/uploadTarget.js';
import { compressionExtras } from '../../protocol/compression.js';
import { mixSeed } from '../../protocol/seededRng.js';
import { encodedByteLength } from '../../protocol/tensorCodec.js';
import { specOf } from '../../protocol/tensors.js';
import { ClearGlobalCoordinator } from '../clearGlobalCoordinator.js';
import type { CoordinatorMode, ModeContext, ModeDefinition } from '../mode.js';

/**
 * Plain mode's coordinator half: it holds the global model, streams it (or the strategy's fit payload, e.g.
 * SCAFFOLD's [x; c]) in the clear, sums decoded updates in its aggregator, and lets the strategy's
 * aggregateFit make the next model. The coordinator sees every update. With `compression`, every fit task asks
 * for it and uploads arrive compressed, decoded into the same aggregation.
 */
class PlainCoordinator extends ClearGlobalCoordinator implements CoordinatorMode {
  readonly name = 'plain' as const;
  readonly maxUploadBytes: number;
  private readonly payload: FitPayloadShape | undefined;
  private readonly aggregator;
  private readonly uploadSpec;
  /** Seeds each task's rounding coins: the run's seed, or a random one for a run without. */
  private readonly compressionSeed: number;

  constructor(context: ModeContext) {
    super(context);
    const { strategy, initialWeights } = context;
    this.payload = strategy.capabilities.payload;
    const spec = specOf(initialWeights);
    this.uploadSpec = this.payload ? this.payload.uploadSpec(spec) : spec;
    // The dense layout bounds every upload, compressed or not (feature moments too, which a small compressed layout
    // could undercut); a compressed one is held to its exact length by its decoder, which refuses any byte beyond it.
    this.maxUploadBytes = encodedByteLength(this.uploadSpec);
    this.compressionSeed = context.seed ?? randomInt(2 ** 32);
    this.aggregator = strategy.createAggregator();
    this.aggregator.bind(this.uploadSpec);
  }

  /** A fit payload in a layout clients know (SCAFFOLD's [x; c]) goes to evaluate and final tasks too: the next fit then names it. */
  protected override encodeForClients() {
    const payload = this.payload;
    return payload?.layout ? encodeGlobal(payload.fitPayload(this.global), this.context.chunkBytes, payload.layout) : super.encodeForClients();
  }

  modelPayload() {
    return this.payload?.layout ? super.encodeForClients() : undefined;
  }

  async fit(round: number, tasks: Parameters<CoordinatorMode['fit']>[1], registry: Parameters<CoordinatorMode['fit']>[2], deadlineMs: number) {
    const { strategy, chunkBytes } = this.context;
    const weights = this.payload && !this.payload.layout ? encodeGlobal(this.payload.fitPayload(this.global), chunkBytes) : this.evaluationPayload();
    const aggregation = this.aggregator.begin(round);
    const { compression } = this.context;
    const target = tensorUploadTarget(aggregation, this.uploadSpec, 'the update', compression);
    const instructionsFor = (task: FitTask) =>
      compression ? { ...task.instructions, extra: { ...task.instructions.extra, ...compressionExtras(compression, mixSeed(this.compressionSeed, round, nameSeed(task.client.name))) } } : task.instructions;
    const { reports, failures } = await collectTasks(tasks, registry, (session, task, taskId) => session.fit(round, taskId, instructionsFor(task), weights, target), deadlineMs, 'fit');
    const aggregate = aggregation.finish();
    return {
      reports,
      failures,
      commit: () => {
        const metrics = this.nextGlobal((global, into) => strategy.aggregateFit(round, global, aggregate, reports, failures, into));
        const m = this.aggregator.measurements;
        return { metrics, measurements: { ...(m?.clipped !== undefined ? { clipped: m.clipped } : {}), ...(m?.adaptive ? { clipNorm: m.adaptive.clipNorm } : {}) } };
      },
    };
  }
}

/** A client's name as 32 bits, so each client's rounding coins differ within a round. */
function nameSeed(name: string): number {
  return createHash('sha256').update(name).digest().readUInt32LE(0);
}

export const plainMode: ModeDefinition = {
  name: 'plain',
  protectsUpdates: false,
  refusal: () => undefined,
  createCoordinator: (context) => new PlainCoordinator(context),
};
