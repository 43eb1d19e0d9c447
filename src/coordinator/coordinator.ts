import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { CoordinatorEventMap } from './coordinatorEvents.js';
import { pino, type Logger } from 'pino';
import { defaultPeerOptions, type PeerOptions } from '../protocol/peer.js';
import { createSeededRng, mixSeed } from '../protocol/seededRng.js';
import { specOf, totalParameters, type Weights } from '../protocol/tensors.js';
import { encodedByteLength } from '../protocol/tensorCodec.js';
import type { Aggregator } from './aggregation/aggregator.js';
import { encodeGlobal, type EncodedWeights } from './encodeGlobal.js';
import { computeFederatedStandardization, distributeStandardization } from './federatedStandardization.js';
import { runEvaluateRound } from './evaluateRound.js';
import { runFitRound } from './fitRound.js';
import type { ClientOutcome, RoundRecord } from './roundRecord.js';
import { generateIdentity, keyFingerprint, type Identity } from '../crypto/identity.js';
import { AccessList, type AllowedPeer } from './accessList.js';
import { isLoopbackHost } from '../protocol/loopback.js';
import { noAudit, type AuditTrail } from './auditTrail.js';
import { weightsHash } from './weightsHash.js';
import { CkksContext } from '../crypto/ckks/ckksContext.js';
import { maxEncryptedStreamBytes } from '../crypto/ckks/ckksSizes.js';
import { layoutLength } from '../protocol/encryptedLayout.js';
import { CkksSetupError, distributeCkksKey, encodeEncryptedGlobal, planEncryptedRounds, runEncryptedFitRound, type EncryptedGlobal, type EncryptedRoundPlan } from './ckksRounds.js';
import { weightedMetrics } from './strategies/weightedMean.js';
import { fitPayloadShape, type FitPayloadShape, type Metrics } from './strategy.js';
import { CoordinatorServer, type HttpHandler } from './server.js';
import type { ClientSummary, EvaluateReport, FitReport, TaskFailure } from './strategy.js';
import { RunError, type CoordinatorOptions, type RunResult } from './coordinatorOptions.js';
import { startingPoint } from './startingPoint.js';

export { RunError, type CoordinatorOptions, type RunResult } from './coordinatorOptions.js';

function outcomesOf(reports: readonly (FitReport | EvaluateReport)[], failures: readonly TaskFailure[]): ClientOutcome[] {
  return [
    ...reports.map((r) => ({ client: r.client.name, numExamples: r.numExamples, metrics: r.metrics, ...('loss' in r ? { loss: r.loss } : {}) })),
    ...failures.map((f) => ({ client: f.client.name, failure: { reason: f.reason, detail: f.detail } })),
  ];
}

/** CKKS on another machine's reach with open access or without TLS is refused unless the operator accepts it. */
function refuseUnacceptedRisks(options: CoordinatorOptions): void {
  const host = options.host ?? '127.0.0.1';
  if (isLoopbackHost(host)) return;
  const accepted = options.acceptRisks ?? [];
  if ((options.access ?? AccessList.open()).mode === 'open' && !accepted.includes('open-access')) {
    throw new RunError(`secureAggregation: ckks with open access on ${host}: anyone who proves a key could join and receive the CKKS key; list access.peers, or accept it with coordinator.acceptRisks: [open-access]`);
  }
  if (!options.tls && !accepted.includes('plain-http')) {
    throw new RunError(`secureAggregation: ckks over plain http on ${host}: metadata and ciphertexts would travel unencrypted; configure tls, or accept it with coordinator.acceptRisks: [plain-http]`);
  }
}

/**
 * The round driver: waits for clients, then for each round asks the strategy whom to train, streams the
 * global weights, aggregates arriving updates, updates the model and evaluates it.
 */
export class Coordinator extends EventEmitter<CoordinatorEventMap> {
  readonly runId: string;
  private readonly server: CoordinatorServer;
  private readonly log: Logger;
  private readonly aggregator: Aggregator;
  /** Set when fit tasks carry more than the model (SCAFFOLD's [x; c]). */
  private readonly fitShape: FitPayloadShape | undefined;
  private readonly transfer: PeerOptions;
  private address: string | undefined;
  private readonly access: AccessList;
  private readonly audit: AuditTrail;
  readonly identity: Identity;
  private readonly encryptedPlan: EncryptedRoundPlan | undefined;

  private constructor(private readonly options: CoordinatorOptions) {
    super();
    if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new RunError(`rounds must be a positive integer, got ${options.rounds}`);
    this.runId = options.runId ?? randomUUID();
    this.log = (options.logger ?? pino({ level: 'warn' }, pino.destination(2))).child({ run: this.runId });
    const spec = specOf(options.initialWeights);
    if (options.secureAggregation === 'ckks') {
      if (!options.strategy.supportedModes.includes('ckks')) {
        throw new RunError(`strategy ${options.strategy.name} needs plaintext updates and cannot run with secureAggregation: ckks (it supports ${options.strategy.supportedModes.join(', ')})`);
      }
      refuseUnacceptedRisks(options);
      if (options.privacy && !options.privacyClipNorm) throw new RunError('differential privacy with secureAggregation: ckks needs privacyClipNorm (clients clip and add their noise share)');
      const dp = options.privacy && options.privacyClipNorm ? { clipNorm: options.privacyClipNorm, noiseMultiplier: options.privacy.noiseMultiplier } : undefined;
      try {
        this.encryptedPlan = planEncryptedRounds(options.strategy, totalParameters(spec), dp);
      } catch (e) {
        throw new RunError(`secureAggregation: ckks: ${(e as Error).message}`);
      }
    }
    this.fitShape = fitPayloadShape(options.strategy);
    const uploadSpec = this.fitShape ? this.fitShape.uploadSpec(spec) : spec;
    // No upload may be larger than a fit update (moments are far smaller): refuse bigger ones up front. Under
    // CKKS a fit update is ciphertext frames of the packed state, about 16 bytes a value rather than 4.
    const largestFit = this.encryptedPlan ? maxEncryptedStreamBytes(layoutLength(this.encryptedPlan.layout)) : encodedByteLength(uploadSpec);
    const largestUpload = largestFit + 64 * 1024;
    this.transfer = { ...defaultPeerOptions, maxTransferBytes: largestUpload, ...options.transfer };
    this.identity = options.identity ?? generateIdentity();
    this.access = options.access ?? AccessList.open();
    this.audit = options.audit ?? noAudit;
    this.aggregator = options.strategy.createAggregator();
    this.aggregator.bind(uploadSpec);
    this.server = new CoordinatorServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      runId: this.runId,
      spec,
      fitUploadSpec: uploadSpec,
      transfer: this.transfer,
      helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
      identity: this.identity,
      access: this.access,
      audit: this.audit,
      ...(options.tls ? { tls: options.tls } : {}),
      maxConnectionsPerMinute: options.maxConnectionsPerMinute ?? 120,
      maxPendingHandshakes: options.maxPendingHandshakes ?? 64,
      log: this.log,
      report: (event, ...args) => this.report(event, ...args),
    });
  }

  /** Validates the options, binds the aggregator and starts listening. */
  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const coordinator = new Coordinator(options);
    coordinator.address = await coordinator.server.listen();
    return coordinator;
  }

  get url(): string {
    if (!this.address) throw new RunError('the coordinator is not listening');
    return this.address;
  }

  /** Connected clients, for status displays. */
  get clients() {
    return this.server.registry.summaries();
  }

  /** Serves extra HTTP routes on the coordinator's port (metrics, dashboard). */
  addHttpHandler(handler: HttpHandler): void {
    this.server.addHttpHandler(handler);
  }

  /** Removes a peer from the access list and cuts its connection off at once (admin command). */
  revoke(name: string, reason = 'access revoked'): boolean {
    const removed = this.access.revoke(name);
    this.audit.append('config-change', { change: 'revoke', client: name });
    this.server.enforceAccess(reason);
    return removed;
  }

  /** Replaces the access list (config reload); peers no longer listed are cut off. Returns their names. */
  setAccess(peers: readonly AllowedPeer[]): string[] {
    const lost = this.access.replace(peers);
    this.audit.append('config-change', { change: 'access-list', peers: peers.map((p) => ({ name: p.name, role: p.role, key: keyFingerprint(p.publicKey) })) });
    this.server.enforceAccess('access revoked by a configuration change');
    return lost;
  }

  /** Messages and connections refused so far. */
  get refusals(): number {
    return this.server.refusals;
  }

  /** Emits to listeners; a listener that throws is logged, never allowed to break a round. */
  private report<K extends keyof CoordinatorEventMap>(event: K, ...args: CoordinatorEventMap[K]): void {
    try {
      (this.emit as (event: K, ...args: CoordinatorEventMap[K]) => boolean)(event, ...args);
    } catch (e) {
      this.log.error({ event, error: (e as Error).message }, 'a coordinator event listener threw');
    }
  }

  /** Runs the remaining rounds; the store (if any) marks the run completed, or failed with the reason. */
  async run(): Promise<RunResult> {
    try {
      const result = await this.runRounds();
      this.options.store?.setStatus(this.runId, 'completed');
      return result;
    } catch (e) {
      this.options.store?.setStatus(this.runId, 'failed', (e as Error).message);
      throw e;
    }
  }

  private async runRounds(): Promise<RunResult> {
    const { strategy, store } = this.options;
    const roundTimeoutMs = this.options.roundTimeoutMs ?? 120_000;
    const waitMs = this.options.waitForClientsMs ?? 300_000;
    const maxRetries = this.options.maxRoundRetries ?? 2;
    const seed = this.options.seed ?? 0;
    const registry = this.server.registry;
    const start = startingPoint({ runId: this.runId, options: this.options, encryptedPlan: this.encryptedPlan, log: this.log, audit: this.audit });
    let global = start.global;
    const history: RoundRecord[] = [];
    // Hashing a large model costs ~1 s per GB: only when a store or an audit log will keep the hash.
    const auditing = this.audit !== noAudit;
    if (start.firstRound === 1 && auditing) {
      this.audit.append('run-started', { run: this.runId, rounds: this.options.rounds, strategy: strategy.name, model: weightsHash(global), coordinatorKey: keyFingerprint(this.identity.publicKey), access: this.access.mode });
    }
    const standardization = await this.standardize(waitMs, roundTimeoutMs, start.standardization);
    if (standardization && !start.standardization) store?.saveStandardization(this.runId, standardization.weights);
    const ckks = this.options.secureAggregation === 'ckks' ? await CkksContext.create() : undefined;
    const recordClient = (client: ClientSummary) => store?.recordClient(this.runId, client);
    registry.summaries().forEach(recordClient);
    this.on('client-joined', recordClient);
    const eligible = async () => {
      if (standardization) await distributeStandardization(registry, standardization.encoded, this.log);
      // A resumed encrypted state is under the run's existing key: a fresh one could not decrypt it.
      if (ckks) {
        await distributeCkksKey(registry, this.access, roundTimeoutMs, this.log, this.audit, { mayGenerate: encryptedGlobal === undefined }).catch((e: unknown) => {
          throw e instanceof CkksSetupError ? new RunError(e.message) : e;
        });
      }
      return registry
        .all()
        .filter((s) => s.open && s.role === 'client' && (!standardization || s.standardized) && (!ckks || s.ckksReady))
        .map((s) => s.summary);
    };

    let encryptedGlobal: EncryptedGlobal | undefined = start.encrypted;
    const ledger = start.ledger;
    let stoppedEarly: string | undefined;
    let roundPrivacy: RoundRecord['privacy'];
    rounds: for (let round = start.firstRound; round <= this.options.rounds; round++) {
      const started = performance.now();
      let attempts = 0;
      let fitRecord: RoundRecord['fit'] | undefined;
      while (!fitRecord) {
        attempts++;
        await registry.waitFor(strategy.minAvailableClients, waitMs).catch((e: unknown) => {
          throw new RunError(`round ${round}: ${(e as Error).message}`);
        });
        const fitStarted = performance.now();
        const candidates = await eligible();
        const tasks = strategy.configureFit(round, candidates, createSeededRng(mixSeed(seed, round, attempts, 1)));
        const sampleRate = candidates.length > 0 ? Math.min(1, tasks.length / candidates.length) : 1;
        const refusal = ledger?.refuse(round, sampleRate);
        if (refusal) {
          stoppedEarly = refusal.message;
          this.log.warn({ round }, stoppedEarly);
          this.audit.append('privacy-budget-reached', { round, epsilon: refusal.epsilon, target: this.options.privacy?.targetEpsilon ?? null, delta: this.options.privacy?.delta ?? null });
          break rounds;
        }
        this.report('round-started', { round, attempt: attempts, selected: tasks.map((t) => t.client.name) });
        // Round 1 starts from the public initial weights; under CKKS every later broadcast is the encrypted sum.
        const weights = encryptedGlobal
          ? encodeEncryptedGlobal(encryptedGlobal, this.transfer.chunkBytes)
          : encodeGlobal(this.fitShape ? this.fitShape.fitPayload(global) : global, this.transfer.chunkBytes);
        const fit = ckks
          ? await runEncryptedFitRound(
              round,
              tasks,
              registry,
              ckks,
              this.encryptedPlan!,
              weights,
              roundTimeoutMs,
            )
          : await runFitRound(round, tasks, registry, this.aggregator, weights, roundTimeoutMs);
        const outcomes = outcomesOf(fit.reports, fit.failures);
        if (fit.reports.length >= strategy.minFitClients) {
          const aggregationStarted = performance.now();
          let metrics: Metrics;
          if ('global' in fit) {
            encryptedGlobal = fit.global;
            metrics = weightedMetrics(fit.reports);
          } else {
            const next = strategy.aggregateFit(round, global, fit.aggregate, fit.reports, fit.failures);
            global = next.weights;
            metrics = next.metrics;
          }
          // Distributed noise: only the m' clients that contributed added their share, so the sum carries
          // noise of std zC * sqrt(m'/m); the accountant is charged with that effective multiplier.
          const dropoutFactor = ckks ? Math.sqrt(fit.reports.length / tasks.length) : 1;
          if (ledger) roundPrivacy = ledger.charge(sampleRate, this.aggregator, dropoutFactor);
          // Under CKKS only clients know an adaptive C; they report the one they clipped to (the same for all).
          if (roundPrivacy && ckks && metrics.clipNorm !== undefined) roundPrivacy = { ...roundPrivacy, clipNorm: metrics.clipNorm };
          const durationMs = performance.now() - fitStarted;
          const aggregationMs = performance.now() - aggregationStarted;
          const trainingMs = Math.max(0, ...fit.reports.map((r) => (r.metrics.trainSeconds ?? 0) * 1000));
          const timing = { trainingMs, aggregationMs, transferMs: Math.max(0, durationMs - trainingMs - aggregationMs) };
          fitRecord = { selected: tasks.length, outcomes, metrics, durationMs, timing };
          break;
        }
        const reasons = fit.failures.map((f) => `${f.client.name}: ${f.reason} (${f.detail})`).join('; ');
        const message = `round ${round} attempt ${attempts} failed: ${fit.reports.length} of the ${strategy.minFitClients} required updates arrived${reasons ? ` [${reasons}]` : ''}`;
        this.log.warn({ round, attempt: attempts, failures: fit.failures.length }, message);
        this.report('round-failed', { round, attempt: attempts, message });
        if (attempts > maxRetries) throw new RunError(`${message}; giving up after ${attempts} attempts`);
      }

      const evaluateStarted = performance.now();
      const evalTasks = strategy.configureEvaluate(round, await eligible(), createSeededRng(mixSeed(seed, round, 2)));
      let evaluate: RoundRecord['evaluate'];
      if (evalTasks.length > 0) {
        const broadcast = encryptedGlobal ? encodeEncryptedGlobal(encryptedGlobal, this.transfer.chunkBytes) : encodeGlobal(global, this.transfer.chunkBytes);
        const ev = await runEvaluateRound(round, evalTasks, registry, broadcast, roundTimeoutMs);
        if (ev.reports.length < strategy.minEvaluateClients) {
          this.log.warn({ round }, `round ${round}: ${ev.reports.length} of ${strategy.minEvaluateClients} evaluations arrived; federated metrics skipped`);
        }
        const summary = ev.reports.length >= strategy.minEvaluateClients ? strategy.aggregateEvaluate(round, ev.reports, ev.failures) : { loss: undefined, metrics: {} };
        evaluate = { ...summary, outcomes: outcomesOf(ev.reports, ev.failures), durationMs: performance.now() - evaluateStarted };
      }
      // Under CKKS the coordinator has no model to evaluate centrally.
      const central = strategy.evaluate && !ckks ? await strategy.evaluate(round, global) : undefined;
      const record: RoundRecord = {
        round,
        attempts,
        fit: fitRecord,
        ...(evaluate ? { evaluate } : {}),
        ...(central ? { central } : {}),
        ...(roundPrivacy ? { privacy: roundPrivacy } : {}),
        durationMs: performance.now() - started,
      };
      history.push(record);
      const saved = { strategy: strategy.state?.(), ...(ledger ? { privacy: ledger.state } : {}) };
      const modelSha256 = encryptedGlobal
        ? (store?.completeRound(this.runId, record, encryptedGlobal, saved) ?? encryptedGlobal.sha256)
        : store
          ? store.completeRound(this.runId, record, global, saved)
          : auditing
            ? weightsHash(global)
            : undefined;
      if (store && roundPrivacy) store.recordPrivacy(this.runId, round, roundPrivacy.epsilon, roundPrivacy.delta);
      if (auditing) {
        this.audit.append('round-completed', {
          round,
          attempts,
          participants: fitRecord.outcomes.filter((o) => !o.failure).map((o) => o.client),
          dropped: fitRecord.outcomes.filter((o) => o.failure).map((o) => ({ client: o.client, reason: o.failure!.reason })),
          model: modelSha256,
        });
      }
      this.log.info({ round, durationMs: record.durationMs, loss: evaluate?.loss }, 'round completed');
      this.options.onRound?.(record);
      this.report('round-completed', record);
    }
    const ending = stoppedEarly ?? `run ${this.runId} completed ${this.options.rounds} rounds`;
    for (const session of registry.all()) session.notify({ type: 'run-end', reason: ending });
    this.report('run-completed', { runId: this.runId, rounds: this.options.rounds });
    // Clients hang up once they have the message; closing first could cut it off in a socket buffer.
    await registry.waitForEmpty(5_000);
    this.off('client-joined', recordClient);
    ckks?.dispose();
    return {
      runId: this.runId,
      weights: encryptedGlobal ? [] : global,
      ...(encryptedGlobal
        ? { encryptedModel: { sha256: encryptedGlobal.sha256, totalWeight: encryptedGlobal.totalWeight, bytes: encryptedGlobal.ciphertexts.reduce((s, c) => s + c.length, 0) } }
        : {}),
      history,
      ...(standardization ? { standardization: standardization.weights } : {}),
      ...(stoppedEarly ? { stoppedEarly } : {}),
    };
  }

  /** Round 0 when the experiment asks for federated standardization: moments in, one mean and std out. */
  private async standardize(waitMs: number, deadlineMs: number, stored: Weights | undefined): Promise<{ weights: Weights; encoded: EncodedWeights } | undefined> {
    const features = this.options.standardizeFeatures;
    if (features === undefined) return undefined;
    if (stored) {
      await this.options.onStandardization?.(stored);
      return { weights: stored, encoded: encodeGlobal(stored, this.transfer.chunkBytes) };
    }
    await this.server.registry.waitFor(this.options.strategy.minAvailableClients, waitMs).catch((e: unknown) => {
      throw new RunError(`federated standardization: ${(e as Error).message}`);
    });
    const result = await computeFederatedStandardization(this.server.registry, features, deadlineMs);
    this.log.info({ clients: result.contributors, rows: result.rows, failures: result.failures.length }, 'federated standardization computed');
    await this.options.onStandardization?.(result.standardization);
    return { weights: result.standardization, encoded: encodeGlobal(result.standardization, this.transfer.chunkBytes) };
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}
