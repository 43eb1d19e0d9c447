import type { Logger } from 'pino';
import { canonicalClaims, uploadTranscript } from '../../crypto/handshake.js';
import { sign, type Identity } from '../../crypto/identity.js';
import { encodeBase64 } from '../../crypto/keyEncoding.js';
import type { ClientMode, GlobalState } from '../../modes/clientMode.js';
import type { ModeHeader, StreamMetaOf } from '../../protocol/messages.js';
import { PayloadNotHeldError } from '../../protocol/refusalCode.js';
import { scaffoldSpec, splitScaffold } from '../../protocol/scaffoldWire.js';
import type { Peer, StreamSink } from '../../protocol/peer.js';
import { TensorStreamDecoder, WeightsCollector } from '../../protocol/tensorCodec.js';
import type { TensorSpec, Weights } from '../../protocol/tensors.js';
import type { LeaveAt } from '../dropouts/dropoutSchedule.js';
import type { ClientEvent } from '../clientOptions.js';
import type { FeatureScaler } from '../featureScaler.js';
import type { FitChains } from '../mods/chainFor.js';
import type { FitChain } from '../mods/fitChain.js';
import type { Trainer } from '../trainer.js';
import { isScaffoldTask } from '../scaffoldMember.js';
import type { DownloadGuard } from './downloadGuard.js';
import { applyStandardization, sendFeatureMoments } from './featureStatistics.js';

/** A download received whole: its hash (computed here), the header and layout it was read with, and its state. */
interface HeldDownload {
  readonly sha256: string;
  readonly header: string;
  readonly spec: string;
  readonly read: () => Promise<GlobalState>;
}

/** What of a download's header says how its bytes are read (the mode's part). */
function headerText(meta: ModeHeader): string {
  return JSON.stringify(meta.encrypted ?? null);
}

function specText(spec: readonly TensorSpec[]): string {
  return JSON.stringify(spec.map((t) => [t.name, t.shape]));
}

/** The model in an evaluate or final download: x of SCAFFOLD's [x; c] under that layout, else all of it. */
function modelPart(meta: Pick<StreamMetaOf<'evaluate' | 'final'>, 'layout'>, weights: Weights): Weights {
  return meta.layout === 'scaffold' ? splitScaffold(weights).first : weights;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a node's task runner works with. */
export interface TaskRunnerParts {
  readonly name: string;
  readonly trainer: Trainer;
  readonly scaler: FeatureScaler | undefined;
  readonly identity: Identity;
  readonly peer: Peer;
  readonly chunkBytes: number;
  readonly modes: readonly ClientMode[];
  readonly chains: FitChains;
  readonly guard: DownloadGuard;
  readonly audit: { append(type: string, data: Readonly<Record<string, unknown>>): void };
  readonly log: Logger;
  readonly emit: (event: ClientEvent) => void;
  /** Refuses a task (audited as `task-refused`, reported in events and the log). */
  readonly refuse: (kind: string, round: number, taskId: string, reason: string) => void;
  /** The run this connection authenticated into (uploads are signed for it). */
  readonly runId: () => string | undefined;
  /** The model's spec, as this node's trainer holds it. */
  readonly modelSpec: () => readonly TensorSpec[];
  /** Simulated dropouts: where this node leaves a round, and how (it disconnects). */
  readonly dropout?: { readonly leaveAt: LeaveAt; readonly leave: () => void };
}

/**
 * A node's tasks, one at a time: each download is read by the secure mode it belongs to (or, when it names
 * the payload this node already holds, not sent again), a fit runs through its chain and the mode protects the
 * update, and every upload and result is signed for the run and logged in the node's audit trail.
 */
export class TaskRunner {
  private queue: Promise<void> = Promise.resolve();
  /** The last payload received whole: a later task may name it instead of sending it again. */
  private held: HeldDownload | undefined;
  /** The last global model received (decrypted, under a secure mode): the final model once the run ends. */
  lastGlobal: Weights | undefined;

  constructor(private readonly parts: TaskRunnerParts) {}

  /** Resolves once the task in progress is done, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<unknown> {
    return Promise.race([this.queue, new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  /**
   * Refuses, with the code `payload-not-held`, a task naming a payload this node does not hold, before the task
   * is screened (and its id taken): the coordinator then sends the same task with the bytes.
   */
  requireHeld(meta: StreamMetaOf<'fit' | 'evaluate' | 'final' | 'standardize'>): void {
    if (meta.kind === 'standardize' || meta.reuses === undefined || this.held?.sha256 === meta.reuses) return;
    throw new PayloadNotHeldError(`the task reuses payload ${meta.reuses.slice(0, 16)}..., which this client does not hold: send it`);
  }

  /** The sink for a task's download, after the guard let its header through. */
  open(meta: StreamMetaOf<'fit' | 'evaluate' | 'final' | 'standardize'>): StreamSink {
    if (meta.kind === 'standardize') return this.standardization(meta);
    const { guard, log } = this.parts;
    // A fit task's chain says what its download holds (the model, or a step's larger layout); built now, its
    // conflicts refuse the task before any byte is read.
    const chain = meta.kind === 'fit' ? this.chainFor(meta) : undefined;
    const model = this.parts.modelSpec();
    // An evaluate or final task may carry the fit payload (SCAFFOLD's [x; c]): its layout says so, and it is signed.
    const spec = chain ? chain.downloadSpec(model) : meta.layout === 'scaffold' ? scaffoldSpec(model) : model;
    if (meta.kind === 'fit' && (meta.layout === 'scaffold') !== isScaffoldTask(meta.config)) {
      const reason = `the fit task's payload layout (${meta.layout ?? 'the model'}) is not the one its config asks for`;
      this.parts.refuse('fit', meta.round, meta.taskId, reason);
      throw new Error(reason);
    }
    const abort = (reason: string) => log.warn({ kind: meta.kind, reason }, 'incoming stream aborted');
    if (meta.reuses !== undefined) {
      // The payload this node acknowledged last (the global it evaluated is the one it now trains from).
      const reused = this.reusable(meta, spec);
      return {
        write: () => {
          throw new Error('a task that reuses a payload carries no bytes');
        },
        end: (trailer) => {
          guard.check(meta, trailer);
          return this.schedule(meta, chain, reused.read, reused.sha256);
        },
        abort,
      };
    }
    const mode = this.parts.modes.find((m) => m.readsDownload(meta))!;
    const download = mode.openDownload(meta, spec);
    return {
      write: (chunk) => download.write(chunk),
      end: (trailer) => {
        guard.check(meta, trailer);
        const decode = download.end();
        let state: Promise<GlobalState> | undefined;
        const read = () => (state ??= decode());
        this.held = { sha256: trailer.sha256, header: headerText(meta), spec: specText(spec), read };
        return this.schedule(meta, chain, read, trailer.sha256);
      },
      abort,
    };
  }

  /**
   * The held payload a task names, read as it was read then. The hash alone is this node's own (computed over
   * the bytes it received); a header or layout other than the held one's is a coordinator deviating: refused.
   */
  private reusable(meta: StreamMetaOf<'fit' | 'evaluate' | 'final'>, spec: readonly TensorSpec[]): HeldDownload {
    const held = this.held;
    if (!held || held.sha256 !== meta.reuses) throw new PayloadNotHeldError(`the task reuses payload ${meta.reuses?.slice(0, 16)}..., which this client does not hold: send it`);
    if (held.header !== headerText(meta)) throw new Error(`the task reuses payload ${held.sha256.slice(0, 16)}... under another secure-aggregation header than the one it arrived with`);
    if (held.spec !== specText(spec)) throw new Error(`the task reuses payload ${held.sha256.slice(0, 16)}... as another layout than the one it was read as`);
    return held;
  }

  /** Feature moments for federated standardization, signed like any upload; a failure is reported, not thrown. */
  sendMoments(taskId: string): void {
    this.queue = this.queue.then(async () => {
      const { peer, scaler, chunkBytes, log } = this.parts;
      try {
        await sendFeatureMoments(peer, scaler, taskId, chunkBytes, (sha256, rows) => this.signUpload(0, taskId, 'statistics-result', { numExamples: rows }, sha256));
      } catch (e) {
        log.error({ error: errorText(e) }, 'sending feature statistics failed');
        await peer.send({ type: 'statistics-failure', taskId, reason: errorText(e).slice(0, 4000) }).catch(() => undefined);
      }
    });
  }

  /** The fit chain for a task; a conflict between its steps refuses the task, audited like a policy refusal. */
  private chainFor(meta: StreamMetaOf<'fit'>): FitChain {
    try {
      return this.parts.chains.for(meta.config, this.fitMode(meta), this.parts.runId() ?? '');
    } catch (e) {
      this.parts.refuse('fit', meta.round, meta.taskId, errorText(e));
      throw e;
    }
  }

  /** The mode that protects a fit task's upload: the first that takes its config (plain takes any). */
  private fitMode(meta: StreamMetaOf<'fit'>): ClientMode {
    return this.parts.modes.find((m) => m.takesFit(meta.config))!;
  }

  /**
   * Trains (or evaluates) after the stream was acknowledged, one task at a time. The final model is kept in
   * turn too (after any task still queued), and its stream is acknowledged only once it is: the returned promise.
   */
  private schedule(meta: StreamMetaOf<'fit' | 'evaluate' | 'final'>, chain: FitChain | undefined, read: () => Promise<GlobalState>, sha256: string): Promise<void> | undefined {
    if (meta.kind === 'final') {
      const kept = this.queue.then(async () => {
        this.lastGlobal = modelPart(meta, (await read()).weights);
        this.parts.audit.append('final-model', { run: this.parts.runId() ?? null, round: meta.round, task: meta.taskId, sha256 });
        this.parts.emit({ type: 'final-model', round: meta.round });
      });
      this.queue = kept.catch(() => undefined);
      return kept;
    }
    this.queue = this.queue.then(async () => {
      try {
        const state = await read();
        this.lastGlobal = chain ? chain.modelOf(state.weights) : modelPart(meta, state.weights);
        await (meta.kind === 'fit' ? this.fit(meta, state, chain!) : this.evaluate(meta, this.lastGlobal));
      } catch (e) {
        await this.reportFailure(meta.kind === 'fit' ? 'fit-failure' : 'evaluate-failure', meta.round, meta.taskId, e);
      }
    });
    return undefined;
  }

  private standardization(meta: StreamMetaOf<'standardize'>): StreamSink {
    const collector = new WeightsCollector();
    const decoder = new TensorStreamDecoder(collector);
    return {
      write: (chunk) => decoder.push(chunk),
      end: async (trailer) => {
        this.parts.guard.check(meta, trailer);
        decoder.end();
        // Applied before acknowledging: the coordinator sends tasks only to clients that finished this.
        const applied = this.queue.then(() => applyStandardization(this.parts.scaler, collector.weights()));
        this.queue = applied.then(
          () => undefined,
          () => undefined,
        );
        this.parts.emit({ type: 'standardized', features: await applied });
      },
      abort: (reason) => this.parts.log.warn({ reason }, 'incoming standardization aborted'),
    };
  }

  /** Train through the chain, let the mode protect the update, upload it signed. */
  private async fit(meta: StreamMetaOf<'fit'>, state: GlobalState, chain: FitChain): Promise<void> {
    const leaving = this.parts.dropout?.leaveAt(meta.round);
    if (leaving === 'before-upload') return this.leave(meta.round, leaving);
    this.fitMode(meta).prepare?.(state, meta.config);
    const update = await chain.run({ round: meta.round, config: meta.config, download: state.weights, trainer: this.parts.trainer });
    const upload = await this.fitMode(meta).protect(update, { ...state, weights: update.global }, meta.config);
    const { numExamples } = update;
    await this.parts.peer.sendStream({ kind: 'fit-result', round: meta.round, taskId: meta.taskId, numExamples, metrics: upload.metrics, ...upload.header }, upload.totalBytes, upload.chunks, {
      sign: (sha256) => this.signUpload(meta.round, meta.taskId, 'fit-result', { numExamples, ...upload.metrics }, sha256),
    });
    update.sent?.();
    this.parts.emit({ type: 'fit', round: meta.round, numExamples, metrics: upload.metrics });
    if (leaving === 'after-upload') this.leave(meta.round, leaving);
  }

  /** A simulated dropout: the node disconnects (and later reconnects) without a word to the coordinator. */
  private leave(round: number, step: 'before-upload' | 'after-upload'): void {
    this.parts.log.info({ round, step }, 'leaving the round (simulated dropout)');
    this.parts.emit({ type: 'left', round, step });
    this.parts.dropout!.leave();
  }

  private async evaluate(meta: StreamMetaOf<'evaluate'>, global: Weights): Promise<void> {
    const { trainer, peer, emit } = this.parts;
    await trainer.setWeights(global);
    const outcome = await trainer.evaluate(meta.config);
    const signature = this.signUpload(meta.round, meta.taskId, 'evaluate-result', { numExamples: outcome.numExamples, loss: outcome.loss, ...outcome.metrics }, '');
    await peer.send({ type: 'evaluate-result', round: meta.round, taskId: meta.taskId, numExamples: outcome.numExamples, loss: outcome.loss, metrics: outcome.metrics, signature });
    emit({ type: 'evaluate', round: meta.round, loss: outcome.loss, metrics: outcome.metrics });
  }

  private async reportFailure(kind: 'fit-failure' | 'evaluate-failure', round: number, taskId: string, e: unknown): Promise<void> {
    const reason = errorText(e);
    this.parts.emit({ type: 'task-failed', round, reason });
    this.parts.audit.append('task-failed', { run: this.parts.runId() ?? null, round, task: taskId, kind, reason });
    this.parts.log.error({ round, reason }, `${kind === 'fit-failure' ? 'fit' : 'evaluate'} failed`);
    await this.parts.peer.send({ type: kind, round, taskId, reason: reason.slice(0, 4000) }).catch(() => undefined);
  }

  /** Signs (run, round, task, this client, claims, payload hash) and records what left this site. */
  private signUpload(round: number, taskId: string, kind: string, claims: Readonly<Record<string, number>>, sha256: string): string {
    const runId = this.parts.runId();
    if (!runId) throw new Error('not authenticated to a run');
    const claimsText = canonicalClaims(claims);
    const signature = encodeBase64(sign(uploadTranscript({ runId, round, taskId, client: this.parts.name, kind, claims: claimsText, payloadHash: sha256 }), this.parts.identity.secretKey));
    this.parts.audit.append('upload-sent', { run: runId, round, task: taskId, kind, claims: claimsText, sha256, signature });
    return signature;
  }
}
