import { createHash } from 'node:crypto';
import type { ClientRegistry } from '../../coordinator/clientRegistry.js';
import type { ClientSession } from '../../coordinator/clientSession.js';
import type { EncodedWeights } from '../../coordinator/encodedWeights.js';
import { collectTasks } from '../../coordinator/collectTasks.js';
import { RunError } from '../../coordinator/coordinatorOptions.js';
import { encodeGlobal } from '../../coordinator/encodeGlobal.js';
import type { RoundRecord } from '../../coordinator/roundRecord.js';
import { encryptedCheckpointHash, type EncryptedCheckpoint } from '../../coordinator/store/encryptedCheckpoint.js';
import type { RunStore } from '../../coordinator/store/runStore.js';
import type { FitTask, StrategyCapabilities } from '../../coordinator/strategy.js';
import { weightedMetrics } from '../../coordinator/strategies/weightedMean.js';
import type { UploadTarget } from '../../coordinator/uploadTarget.js';
import { CkksContext } from '../../crypto/ckks/ckksContext.js';
import { maxEncryptedStreamBytes } from '../../crypto/ckks/ckksSizes.js';
import { CkksEvaluatorSide } from '../../crypto/ckks/evaluatorSide.js';
import { ciphertextFrameChunks, framedByteLength } from '../../crypto/ckks/frames.js';
import { encryptedExtras } from '../../protocol/encryptedInstructions.js';
import { describeLayout, layoutLength } from '../../protocol/encryptedLayout.js';
import { totalParameters, specOf, type Weights } from '../../protocol/tensors.js';
import type { CoordinatorMode, FitPhase, ModeContext, ModeDefinition } from '../mode.js';
import { CkksSetupError, distributeCkksKey } from './keyDistribution.js';
import { cohortInstructions, planEncryptedRounds, type EncryptedRoundPlan } from './plan.js';
import { UploadSlots } from './uploadSlots.js';

/** Encrypted uploads streaming into the sum at once (each holds its ciphertexts until it commits). */
const UPLOAD_SLOTS = 2;

/** The model as the coordinator holds it under CKKS: the encrypted sum of weighted states, and the weights' total. */
export type EncryptedGlobal = EncryptedCheckpoint;

/** The encrypted global, framed for streaming to clients. */
export function encodeEncryptedGlobal(global: EncryptedGlobal, chunkBytes: number): EncodedWeights {
  const chunks = [...ciphertextFrameChunks(global.ciphertexts, chunkBytes)];
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const { layout } = global;
  return {
    chunks,
    totalBytes: framedByteLength(global.ciphertexts),
    sha256: hash.digest('hex'),
    header: { encrypted: { totalWeight: global.totalWeight, count: layoutLength(layout), momentum: layout.momentum, logClipNorm: layout.logClipNorm } },
  };
}

/**
 * CKKS mode's coordinator half: the coordinator holds no model, only the encrypted sum of the last round's
 * weighted states (which clients decrypt); uploads are ciphertexts added into a key-free running sum
 * (O(model)); the strategy's linear step is applied by the clients; keys are dealt among the clients.
 */
class CkksCoordinator implements CoordinatorMode {
  readonly name = 'ckks' as const;
  readonly maxUploadBytes: number;
  private readonly plan: EncryptedRoundPlan;
  private encrypted: EncryptedGlobal | undefined;
  private context: CkksContext | undefined;
  private encoded: { readonly of: unknown; readonly payload: EncodedWeights } | undefined;

  constructor(private readonly run: ModeContext) {
    const { privacy, strategy, initialWeights } = run;
    if (privacy && privacy.clipNorm === undefined) throw new RunError('differential privacy with secureAggregation: ckks needs privacy.clipNorm (clients clip to it and add their noise share)');
    const dp = privacy?.clipNorm !== undefined ? { clipNorm: privacy.clipNorm, noiseMultiplier: privacy.noiseMultiplier } : undefined;
    try {
      this.plan = planEncryptedRounds(strategy.capabilities.linearStep, totalParameters(specOf(initialWeights)), dp);
    } catch (e) {
      throw new RunError(`secureAggregation: ckks: ${(e as Error).message}`);
    }
    this.maxUploadBytes = maxEncryptedStreamBytes(layoutLength(this.plan.layout));
  }

  async prepare(registry: ClientRegistry, deadlineMs: number): Promise<void> {
    this.context ??= await CkksContext.create();
    // A resumed encrypted state is under the run's existing key: a fresh one could not decrypt it.
    await distributeCkksKey(registry, this.run.access, deadlineMs, this.run.log, this.run.audit, { mayGenerate: this.encrypted === undefined }).catch((e: unknown) => {
      throw e instanceof CkksSetupError ? new RunError(e.message) : e;
    });
  }

  ready(session: ClientSession): boolean {
    return session.holdsRunKey;
  }

  /**
   * Each selected client uploads weight_k x (its part of the next state), with weight_k its share of the
   * cohort's examples (1/m under DP); arriving ciphertexts go into the running sum; the new global is that sum
   * and the committed weights' total.
   */
  async fit(round: number, tasks: readonly FitTask[], registry: ClientRegistry, deadlineMs: number): Promise<FitPhase> {
    const plan = this.plan;
    const sum = new CkksEvaluatorSide(this.context!, layoutLength(plan.layout));
    const slots = new UploadSlots(UPLOAD_SLOTS);
    try {
      // Round 1 starts from the public initial weights; every later broadcast is the encrypted sum.
      const broadcast = this.evaluationPayload();
      const cohortExamples = tasks.reduce((s, t) => s + t.client.numTrainExamples, 0) || tasks.length;
      // DP weighs clients equally (example counts would scale the sensitivity); otherwise FedAvg's example shares.
      const shares = new Map(tasks.map((t) => [t.client.id, plan.dp ? 1 / tasks.length : (t.client.numTrainExamples || 1) / cohortExamples]));
      const common = cohortInstructions(plan, tasks.length);
      const target: UploadTarget = {
        label: 'ckks',
        open: async (meta) => {
          if (meta.kind !== 'fit-result' || !meta.encrypted) throw new Error('this round aggregates under CKKS: a plaintext update is refused');
          const release = await slots.acquire();
          try {
            const sink = sum.accept();
            return {
              write: (chunk) => sink.write(chunk),
              end: () => undefined,
              commit: () => (sink.commit(), release()),
              abort: (reason) => (sink.abort(reason), release()),
            };
          } catch (e) {
            release();
            throw e;
          }
        },
      };
      const { reports, failures } = await collectTasks(
        tasks,
        registry,
        (session, task, taskId) => {
          const extra = encryptedExtras({ ...common, weight: shares.get(task.client.id)! });
          return session.fit(round, taskId, { ...task.instructions, extra: { ...task.instructions.extra, ...extra } }, broadcast, target);
        },
        deadlineMs,
        'fit',
      );
      const ciphertexts = reports.length > 0 ? sum.serializeSum() : [];
      const totalWeight = reports.reduce((s, r) => s + shares.get(r.client.id)!, 0);
      return {
        reports,
        failures,
        commit: () => {
          this.encrypted = { ciphertexts, totalWeight, layout: plan.layout, sha256: encryptedCheckpointHash(ciphertexts) };
          const metrics = this.run.strategy.aggregateFitMetrics?.(round, reports, failures) ?? weightedMetrics(reports);
          // Distributed noise: only the m' clients that contributed added their share, so the sum carries noise
          // of std zC * sqrt(m'/m). Only clients know an adaptive C; they report the one they clipped to.
          return { metrics, noiseShares: { present: reports.length, selected: tasks.length }, measurements: metrics.clipNorm !== undefined ? { clipNorm: metrics.clipNorm } : {} };
        },
      };
    } finally {
      sum.dispose();
    }
  }

  /** Framed and hashed once per state: evaluate of round r and fit of round r + 1 stream the same bytes. */
  evaluationPayload(): EncodedWeights {
    const state = this.encrypted ?? this.run.initialWeights;
    if (this.encoded?.of !== state) {
      this.encoded = { of: state, payload: this.encrypted ? encodeEncryptedGlobal(this.encrypted, this.run.chunkBytes) : encodeGlobal(this.run.initialWeights, this.run.chunkBytes) };
    }
    return this.encoded.payload;
  }

  /** The coordinator has no model to evaluate centrally. */
  centralModel(): undefined {
    return undefined;
  }

  /** The checkpoint is the last encrypted sum, which only the clients still holding the run's key can decrypt. */
  restore(store: RunStore) {
    const checkpoint = store.encryptedCheckpoint(this.run.runId);
    if (!checkpoint) return undefined;
    const saved = checkpoint.layout;
    const layout = this.plan.layout;
    if (saved.parameters !== layout.parameters || saved.momentum !== layout.momentum || saved.logClipNorm !== layout.logClipNorm) {
      throw new RunError(`run ${this.run.runId} was checkpointed as ${describeLayout(saved)}, but this configuration packs ${describeLayout(layout)}: resume it with its own strategy and privacy settings`);
    }
    this.encrypted = checkpoint;
    return { round: checkpoint.round, sha256: checkpoint.sha256, strategyState: checkpoint.strategyState };
  }

  checkpoint(store: RunStore, record: RoundRecord, strategyState: unknown): string {
    return store.completeRound(this.run.runId, record, this.requireState(), strategyState);
  }

  stateHash(): string {
    return this.requireState().sha256;
  }

  result(): { weights: Weights; encryptedModel?: { sha256: string; totalWeight: number; bytes: number } } {
    const e = this.encrypted;
    return { weights: [], ...(e ? { encryptedModel: { sha256: e.sha256, totalWeight: e.totalWeight, bytes: e.ciphertexts.reduce((s, c) => s + c.length, 0) } } : {}) };
  }

  close(): void {
    this.context?.dispose();
  }

  private requireState(): EncryptedGlobal {
    if (!this.encrypted) throw new RunError('no encrypted round has completed yet');
    return this.encrypted;
  }
}

/**
 * CKKS runs a strategy whose update needs only the mean, whose step is linear in it (the clients apply it),
 * and whose fit tasks carry the model alone.
 */
function refusal(capabilities: StrategyCapabilities): string | undefined {
  if (capabilities.needs !== 'mean') return 'it needs every individual update, which CKKS hides';
  if (capabilities.payload) return 'its fit tasks carry more than the model, which the CKKS layout does not pack';
  if (!capabilities.linearStep) return 'its server step is not linear in the mean update, so the clients cannot apply it and the coordinator never sees the mean';
  return undefined;
}

export const ckksMode: ModeDefinition = {
  name: 'ckks',
  protectsUpdates: true,
  compressionRefusal:
    'CKKS encrypts every value into ciphertext slots whose size the encryption parameters fix (about 16 bytes a value), so an 8-bit or sparse plaintext would not make the upload smaller, and the coordinator, which cannot decrypt, could not decode a compressed layout; remove compression (or run secureAggregation: plain)',
  refusal,
  createCoordinator: (context) => new CkksCoordinator(context),
};
