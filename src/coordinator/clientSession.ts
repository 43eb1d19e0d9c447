import type { Logger } from 'pino';
import { canonicalClaims, uploadTranscript } from '../crypto/handshake.js';
import { verify } from '../crypto/identity.js';
import type { Role } from './accessList.js';
import type { AuditTrail } from './auditTrail.js';
import { MAX_REASON, type Message, type MessageOf, type StreamMeta, type StreamMetaOf } from '../protocol/messages.js';
import type { Peer, StreamSink, StreamTrailer } from '../protocol/peer.js';
import { PayloadSender, type HeldPayloads } from './payloadSender.js';
import type { UploadMeta, UploadSink, UploadTarget } from './uploadTarget.js';
import { streamOf, type EncodedWeights } from './encodedWeights.js';
import { OpenTasks } from './openTasks.js';
import { ReplyWaits } from './replyWaits.js';
import { checkedAgreementKey, type PublishedAgreementKey } from './publishedAgreementKey.js';
import type { ClientSummary, EvaluateReport, FitInstructions, FitReport } from './strategy.js';
import { TaskError } from './taskError.js';

/**
 * One authenticated client connection: sends it tasks, routes its replies to the waiting round, and
 * streams its uploads straight into the round's aggregator.
 */
export class ClientSession {
  private readonly pending = new OpenTasks();
  private closedReason: string | undefined;
  /** Waits (other than tasks) that end when the connection does. */
  private readonly onClose = new Set<(reason: string) => void>();
  /** True once the client applied the federation's standardization (when the experiment uses one). */
  standardized = false;
  /** The agreement key the client published for this run (verified), and whether it holds the run's mode key. */
  agreementKey: PublishedAgreementKey | undefined;
  holdsRunKey = false;
  /** Sends each payload once: a task whose payload the client holds names it. */
  private readonly payloads: PayloadSender;
  /** Requests awaiting the client's reply, by the reply's type; a lost connection rejects them at once. */
  private readonly replies: ReplyWaits;

  readonly summary: ClientSummary;
  readonly role: Role;

  constructor(
    private readonly peer: Peer,
    summary: ClientSummary & { readonly role: Role },
    /** The Ed25519 key this client proved at connect time; every upload must be signed with it. */
    readonly publicKey: Uint8Array,
    private readonly runId: string,
    private readonly audit: AuditTrail,
    private readonly log: Logger,
    /** The coordinator's signature over a task it streams to this client (header and payload hash). */
    private readonly signDownload: (meta: StreamMeta, sha256: string) => string,
    /** What each client holds, kept across its connections (the server's), so a reconnect is not sent it again. */
    heldPayloads?: HeldPayloads,
  ) {
    const { role, ...rest } = summary;
    this.summary = rest;
    this.role = role;
    this.payloads = new PayloadSender(peer, signDownload, log, rest.name, heldPayloads);
    this.replies = new ReplyWaits((message) => peer.send(message), rest.name);
    peer.onMessage((message) => this.receive(message));
    peer.onStream((meta) => this.receiveStream(meta));
    peer.onRefusedTask((taskId, problem) => this.failRefused(taskId, problem));
  }

  get open(): boolean {
    return this.closedReason === undefined;
  }

  /** Sends a fit task; the update streams into `target`, the mode's sum for the round. */
  fit(round: number, taskId: string, instructions: FitInstructions, weights: EncodedWeights, target: UploadTarget): Promise<FitReport> {
    const result = new Promise<FitReport>((resolve, reject) => {
      this.pending.set(taskId, { kind: 'fit', round, target, resolve, reject });
    });
    const config = { round, ...instructions };
    this.dispatch(taskId, { kind: 'fit', round, taskId, config, ...weights.header }, weights);
    return result;
  }

  /** Sends `message` and resolves with the client's reply of type `reply` (a mode's key exchange). */
  request<T extends Message['type']>(message: Message, reply: T, timeoutMs: number): Promise<MessageOf<T>> {
    return this.replies.request(message, reply, timeoutMs);
  }

  /** Sends `message` and resolves once the client has handled it (rejects with its refusal). */
  async deliver(message: Message): Promise<void> {
    await this.peer.send(message);
  }

  /** Keeps the client's agreement key once its signature (identity, this run) checks out. */
  acceptAgreementKey(offered: { publicKey: string; signature: string; holdsKey: boolean }): void {
    this.agreementKey = checkedAgreementKey(offered, this.publicKey, this.runId);
    if (offered.holdsKey) this.holdsRunKey = true;
  }

  evaluate(round: number, taskId: string, batchSize: number, weights: EncodedWeights): Promise<EvaluateReport> {
    const result = new Promise<EvaluateReport>((resolve, reject) => {
      this.pending.set(taskId, { kind: 'evaluate', round, resolve, reject });
    });
    this.dispatch(taskId, { kind: 'evaluate', round, taskId, config: { round, batchSize }, ...weights.header }, weights);
    return result;
  }

  /** Asks for the client's feature moments, streamed into `target` (round 0: before training). */
  statistics(taskId: string, target: UploadTarget): Promise<FitReport> {
    const result = new Promise<FitReport>((resolve, reject) => {
      this.pending.set(taskId, { kind: 'statistics', round: 0, target, resolve, reject });
    });
    this.peer.send({ type: 'statistics-request', taskId }).catch((e: unknown) => this.pending.settle(taskId, new TaskError('disconnected', (e as Error).message)));
    return result;
  }

  /** Streams the federation's standardization; resolves once the client has applied it. */
  async standardize(weights: EncodedWeights): Promise<void> {
    const meta: StreamMeta = { kind: 'standardize', taskId: `standardize-${this.summary.id}` };
    const { chunks, sha256 } = streamOf(weights);
    await this.peer.sendStream(meta, weights.totalBytes, chunks, { sha256, sign: (digest) => this.signDownload(meta, digest) });
    this.standardized = true;
  }

  /** Gives up on a task (deadline passed); a late reply is then refused as stale. */
  cancel(taskId: string, error: TaskError): void {
    this.pending.settle(taskId, error);
  }

  /** The connection is gone: every task it held fails as 'disconnected'. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const gone of this.onClose) gone(reason);
    for (const taskId of this.pending.ids()) this.pending.settle(taskId, new TaskError('disconnected', reason));
    // A client that took a request and then left will never answer it: do not wait for the deadline.
    this.replies.rejectAll(() => new TaskError('disconnected', reason));
  }

  notify(message: Message): void {
    this.peer.notify(message);
  }

  /** Ends the connection from this side, failing its tasks. */
  kick(reason: string): void {
    this.close(reason);
    // The client's schema refuses a longer reason (an admin's revocation text can be anything).
    this.peer.notify({ type: 'refused', reason: reason.slice(0, MAX_REASON) });
    setTimeout(() => this.peer.disconnect(), 50);
  }

  /**
   * Sends the run's last global state (after `round`), which the client keeps as its final model; resolves once
   * the client has kept it. `otherwise` is what a client that does not hold `weights` is sent instead.
   */
  async final(round: number, taskId: string, weights: EncodedWeights, otherwise?: EncodedWeights): Promise<void> {
    if (this.closedReason !== undefined) throw new TaskError('disconnected', this.closedReason);
    // No task waits on this stream, so the connection's end must end the wait itself (acks wait out their timeout).
    let gone: (reason: string) => void = () => undefined;
    const closed = new Promise<never>((_, reject) => (gone = (reason) => reject(new TaskError('disconnected', reason))));
    closed.catch(() => undefined);
    this.onClose.add(gone);
    try {
      await Promise.race([this.payloads.send({ kind: 'final', round, taskId, ...weights.header }, weights, otherwise), closed]);
    } finally {
      this.onClose.delete(gone);
    }
  }

  /** Streams a task with its payload (or the header naming it: payloadSender.ts); a failure fails the task. */
  private dispatch(taskId: string, meta: StreamMetaOf<'fit' | 'evaluate'>, weights: EncodedWeights): void {
    if (this.closedReason !== undefined) {
      this.pending.settle(taskId, new TaskError('disconnected', this.closedReason));
      return;
    }
    this.payloads.send(meta, weights).catch((e: unknown) => {
      const detail = `sending the ${meta.kind} task failed: ${(e as Error).message}`;
      this.pending.settle(taskId, new TaskError(this.peer.connected ? 'client-error' : 'disconnected', detail));
    });
  }

  /**
   * A message or upload header naming one of this client's tasks was refused (too large, malformed, another
   * round): the answer the task waits for will not come, so it fails now rather than at the round's deadline.
   */
  private failRefused(taskId: string, problem: string): void {
    const task = this.pending.get(taskId);
    // An upload already accepted for the task decides it: a second header refused beside it changes nothing.
    if (!task || (task.kind !== 'evaluate' && task.uploading)) return;
    this.audit.append('upload-refused', { client: this.summary.name, round: task.round, task: taskId, kind: task.kind, reason: problem });
    this.log.warn({ round: task.round, client: this.summary.name, task: taskId, problem }, 'refused an answer to an open task; the task fails now');
    this.pending.settle(taskId, new TaskError('refused', `answer refused: ${problem}`));
  }

  private receive(message: Message): void {
    switch (message.type) {
      case 'agreement-key':
        this.acceptAgreementKey(message);
        return;
      case 'fit-failure':
      case 'evaluate-failure':
      case 'statistics-failure': {
        const round = 'round' in message ? message.round : 0;
        const task = this.pending.get(message.taskId);
        if (!task || task.round !== round) throw new Error(`no open task ${message.taskId} for round ${round}`);
        this.log.warn({ round, client: this.summary.name, reason: message.reason }, 'client reported a failure');
        this.pending.settle(message.taskId, new TaskError('client-error', message.reason));
        return;
      }
      case 'evaluate-result': {
        const task = this.pending.get(message.taskId);
        if (!task || task.kind !== 'evaluate' || task.round !== message.round) {
          throw new Error(`no open evaluate task ${message.taskId} for round ${message.round}`);
        }
        try {
          if (message.numExamples > this.summary.numTestExamples) {
            throw new Error(`claims ${message.numExamples} test examples but announced ${this.summary.numTestExamples}`);
          }
          const claims = canonicalClaims({ numExamples: message.numExamples, loss: message.loss, ...message.metrics });
          this.checkSignature(message.round, message.taskId, 'evaluate-result', claims, '', message.signature);
        } catch (e) {
          this.pending.settle(message.taskId, new TaskError('refused', (e as Error).message));
          throw e;
        }
        this.pending.settle(message.taskId, { client: this.summary, numExamples: message.numExamples, loss: message.loss, metrics: message.metrics });
        return;
      }
      default: {
        if (!this.replies.resolve(message)) throw new Error(`a client may not send "${message.type}" now`);
      }
    }
  }

  /** Refuses an upload not signed by this client's key over (run, round, task, client, claims, payload hash). */
  private checkSignature(round: number, taskId: string, kind: string, claims: string, payloadHash: string, signature: string | undefined): void {
    const message = uploadTranscript({ runId: this.runId, round, taskId, client: this.summary.name, kind, claims, payloadHash });
    if (!signature || !verify(message, new Uint8Array(Buffer.from(signature, 'base64')), this.publicKey)) {
      this.audit.append('upload-refused', { client: this.summary.name, round, task: taskId, kind, reason: 'bad signature' });
      throw new Error(`${kind} for round ${round} is not signed by ${this.summary.name}'s key`);
    }
  }

  private async receiveStream(meta: StreamMeta): Promise<StreamSink> {
    if (meta.kind !== 'fit-result' && meta.kind !== 'statistics-result') throw new Error(`a client may not send a "${meta.kind}" stream`);
    const kind = meta.kind === 'fit-result' ? 'fit' : 'statistics';
    const round = meta.kind === 'fit-result' ? meta.round : 0;
    const metrics = meta.kind === 'fit-result' ? meta.metrics : {};
    const task = this.pending.get(meta.taskId);
    if (!task || task.kind !== kind || task.round !== round) {
      throw new Error(`stale or unknown ${kind} task ${meta.taskId} (round ${round})`);
    }
    if (task.uploading) throw new Error(`task ${meta.taskId} already has an upload; a task takes one`);
    task.uploading = true;
    const refuse = (detail: string): never => {
      this.audit.append('upload-refused', { client: this.summary.name, round, task: meta.taskId, kind: meta.kind, reason: detail });
      this.pending.settle(meta.taskId, new TaskError('refused', detail));
      throw new Error(detail);
    };
    // The same checks in every mode: a weight above what the client announced would skew any weighted sum.
    if (meta.numExamples > this.summary.numTrainExamples) refuse(`claims ${meta.numExamples} training examples but announced ${this.summary.numTrainExamples}`);
    let upload: UploadSink;
    try {
      upload = await task.target.open(meta as UploadMeta, this.summary);
    } catch (e) {
      return refuse((e as Error).message);
    }
    if (this.pending.get(meta.taskId) !== task) {
      upload.abort('task ended while waiting for an aggregation slot');
      throw new Error('task ended while waiting for an aggregation slot');
    }
    task.upload = upload;
    const label = task.target.label ? `${meta.kind} (${task.target.label})` : meta.kind;
    return {
      write: (chunk) => upload.write(chunk),
      end: (trailer: StreamTrailer) => {
        try {
          if (this.pending.get(meta.taskId) !== task || task.upload !== upload) throw new Error(`task ${meta.taskId} is no longer open`);
          const claims = canonicalClaims({ numExamples: meta.numExamples, ...metrics });
          this.checkSignature(round, meta.taskId, meta.kind, claims, trailer.sha256, trailer.signature);
          upload.end();
          upload.commit();
          this.audit.append('upload-accepted', { client: this.summary.name, round, task: meta.taskId, kind: label, numExamples: meta.numExamples, sha256: trailer.sha256, signature: trailer.signature ?? null });
        } catch (e) {
          upload.abort((e as Error).message);
          this.pending.settle(meta.taskId, new TaskError('refused', `update not accepted: ${(e as Error).message}`));
          throw e;
        }
        task.upload = undefined;
        this.pending.settle(meta.taskId, { client: this.summary, numExamples: meta.numExamples, metrics });
      },
      abort: (reason, cause) => {
        upload.abort(reason);
        task.upload = undefined;
        if (this.peer.connected) this.audit.append('upload-refused', { client: this.summary.name, round, task: meta.taskId, kind: meta.kind, reason });
        // A stalled stream is a straggler caught early (its slot is free again), not a refused update.
        const error = cause === 'stalled'
          ? new TaskError('timeout', `upload stalled: ${reason}`)
          : new TaskError(this.peer.connected ? 'refused' : 'disconnected', `update not accepted: ${reason}`);
        this.pending.settle(meta.taskId, error);
      },
    };
  }
}
