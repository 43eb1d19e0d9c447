import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { pino, type Logger } from 'pino';
import { MODES, refuseUnacceptedRisks } from '../modes/index.js';
import { compressionRefusal } from '../protocol/compression.js';
import type { CoordinatorMode } from '../modes/mode.js';
import { generateIdentity, keyFingerprint, type Identity } from '../crypto/identity.js';
import { defaultPeerOptions, type PeerOptions } from '../protocol/peer.js';
import { specOf, type Weights } from '../protocol/tensors.js';
import { AccessList, type AllowedPeer } from './accessList.js';
import { StudySchema } from './studySchema.js';
import { noAudit, type AuditTrail } from './auditTrail.js';
import type { CoordinatorEventMap } from './coordinatorEvents.js';
import { RunError, type CoordinatorOptions, type RunResult } from './coordinatorOptions.js';
import { encodeGlobal, type EncodedWeights } from './encodeGlobal.js';
import { computeFederatedStandardization, distributeStandardization } from './federatedStandardization.js';
import type { PrivacySettings } from './privacyLedger.js';
import { setUpPrivacy } from './privacySetup.js';
import { driveRounds } from './round/driver.js';
import { sendFinalModel } from './round/finalModel.js';
import type { RunContext } from './round/runContext.js';
import type { HttpHandler } from './httpEndpoint.js';
import { CoordinatorServer } from './server.js';
import { startingPoint } from './startingPoint.js';
import type { ClientSummary } from './strategy.js';
import { weightsHash } from './weightsHash.js';

export { RunError, type CoordinatorOptions, type PrivacyOptions, type RunResult } from './coordinatorOptions.js';

/**
 * A coordinator: the server its clients connect to, the secure-aggregation mode chosen for the run, and the
 * run itself (waiting for clients, federated standardization, then the rounds; see round/driver.ts).
 */
export class Coordinator extends EventEmitter<CoordinatorEventMap> {
  /** The run's id (fresh, or the stored run's when resuming). */
  readonly runId: string;
  private readonly server: CoordinatorServer;
  private readonly log: Logger;
  private readonly mode: CoordinatorMode;
  private readonly transfer: PeerOptions;
  private address: string | undefined;
  private readonly access: AccessList;
  private readonly audit: AuditTrail;
  /** The coordinator's Ed25519 identity: clients pin its public key. */
  readonly identity: Identity;

  private readonly options: CoordinatorOptions;
  /** Rejects once the coordinator is halted (see halt()); run() races it. */
  private readonly halted: Promise<never>;
  private haltWith: (error: RunError) => void = () => undefined;
  private readonly ledgerSettings: PrivacySettings | undefined;
  /** The study's data schema, checked against every site's at connect time (studySchema.ts). */
  private readonly studySchema: StudySchema;

  private constructor(given: CoordinatorOptions) {
    super();
    this.halted = new Promise<never>((_, reject) => (this.haltWith = reject));
    this.halted.catch(() => undefined);
    if (!Number.isInteger(given.rounds) || given.rounds < 1) throw new RunError(`rounds must be a positive integer, got ${given.rounds}`);
    const definition = MODES[given.secureAggregation ?? 'plain'];
    // Client-level DP from its one option: the strategy gets its clipping and noise here (privacySetup.ts).
    const setup = setUpPrivacy(given, definition);
    const options: CoordinatorOptions = { ...given, strategy: setup.strategy, ...(setup.privacy ? { privacy: setup.privacy } : {}) };
    this.options = options;
    this.ledgerSettings = setup.ledger;
    this.runId = options.runId ?? randomUUID();
    this.log = (options.logger ?? pino({ level: 'warn' }, pino.destination(2))).child({ run: this.runId });
    this.identity = options.identity ?? generateIdentity();
    this.access = options.access ?? AccessList.open();
    this.audit = options.audit ?? noAudit;
    const refusal = definition.refusal(options.strategy.capabilities);
    if (refusal) throw new RunError(`strategy ${options.strategy.name} cannot run with secureAggregation: ${definition.name}: ${refusal}`);
    refuseUnacceptedRisks(definition, options);
    if (options.compression) {
      const reason = compressionRefusal(options.compression) ?? (definition.compressionRefusal && `compression cannot run with secureAggregation: ${definition.name}: ${definition.compressionRefusal}`);
      if (reason) throw new RunError(reason);
    }
    const chunkBytes = options.transfer?.chunkBytes ?? defaultPeerOptions.chunkBytes;
    this.studySchema = new StudySchema(options.dataSchema);
    const privacy = options.privacy;
    this.mode = definition.createCoordinator({ runId: this.runId, strategy: options.strategy, initialWeights: options.initialWeights, ...(options.adoptInitialWeights ? { adoptInitialWeights: true } : {}), chunkBytes, access: this.access, log: this.log, audit: this.audit, ...(privacy ? { privacy } : {}), ...(options.secaggplus ? { secaggplus: options.secaggplus } : {}), ...(options.compression ? { compression: options.compression } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}) });
    // No upload may be larger than a fit update in this mode (moments are far smaller): refuse bigger ones up front.
    this.transfer = { ...defaultPeerOptions, maxTransferBytes: this.mode.maxUploadBytes + 64 * 1024, ...options.transfer };
    this.server = new CoordinatorServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      runId: this.runId,
      spec: specOf(options.initialWeights),
      schema: this.studySchema,
      transfer: this.transfer,
      helloTimeoutMs: options.helloTimeoutMs ?? 5_000,
      identity: this.identity,
      access: this.access,
      audit: this.audit,
      ...(options.tls ? { tls: options.tls } : {}),
      maxConnectionsPerMinute: options.maxConnectionsPerMinute ?? 120,
      maxPendingHandshakes: options.maxPendingHandshakes ?? 64,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 128,
      ...(options.maxExamplesPerClient !== undefined ? { maxExamplesPerClient: options.maxExamplesPerClient } : {}),
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

  /** The URL clients connect to (`http://` or `https://`, host and port); throws before the coordinator listens. */
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

  /** Open TCP connections, and those not yet authenticated. */
  get connections(): { open: number; pending: number } {
    return this.server.connections;
  }

  /** Bytes on the coordinator's TCP sockets so far, each way: what the network carried, not payloads alone. */
  get socketBytes(): { received: number; sent: number } {
    return this.server.socketBytes;
  }

  /** Audits the refusals counted since the last summary now (they are summarized every minute, and at the run's end). */
  flushRefusals(): void {
    this.server.flushRefusals();
  }

  /** Emits to listeners; a listener that throws is logged, never allowed to break a round. */
  private report<K extends keyof CoordinatorEventMap>(event: K, ...args: CoordinatorEventMap[K]): void {
    try {
      (this.emit as (event: K, ...args: CoordinatorEventMap[K]) => boolean)(event, ...args);
    } catch (e) {
      this.log.error({ event, error: (e as Error).message }, 'a coordinator event listener threw');
    }
  }

  /**
   * Stops at once: every client is cut off and run() rejects with `reason` (the store marks the run failed).
   * For a condition the run must not outlive, such as an audit log that can no longer be written (fail-closed).
   */
  halt(reason: string): void {
    this.log.fatal({ reason }, 'coordinator halted');
    this.haltWith(new RunError(`the coordinator halted: ${reason}`));
    void this.server.close();
  }

  /** Runs the remaining rounds; the store (if any) marks the run completed, or failed with the reason. */
  async run(): Promise<RunResult> {
    try {
      const result = await Promise.race([this.runRounds(), this.halted]);
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
    const registry = this.server.registry;
    const start = startingPoint({ runId: this.runId, options: this.options, mode: this.mode, log: this.log, audit: this.audit, ...(this.ledgerSettings ? { privacy: this.ledgerSettings } : {}) });
    const auditing = this.audit !== noAudit;
    if (start.firstRound === 1 && auditing) {
      this.audit.append('run-started', { run: this.runId, rounds: this.options.rounds, strategy: strategy.name, model: weightsHash(this.options.initialWeights), coordinatorKey: keyFingerprint(this.identity.publicKey), access: this.access.mode, secureAggregation: this.mode.name });
    }
    const standardization = await this.standardize(waitMs, roundTimeoutMs, start.standardization);
    if (standardization && !start.standardization) store?.saveStandardization(this.runId, standardization.weights);
    // The study's schema goes with the run (a resumed run keeps the one it had): `cohort export` ships it.
    const storedSchema = store?.dataSchema(this.runId);
    if (storedSchema) this.studySchema.adopt(storedSchema);
    const saveSchema = () => void (this.studySchema.schema && store?.saveDataSchema(this.runId, this.studySchema.schema));
    saveSchema();
    this.on('schema-adopted', saveSchema);
    const recordClient = (client: ClientSummary) => store?.recordClient(this.runId, client);
    registry.summaries().forEach(recordClient);
    this.on('client-joined', recordClient);
    const eligible = async () => {
      if (standardization) await distributeStandardization(registry, standardization.encoded, this.log);
      await this.mode.prepare(registry, roundTimeoutMs);
      return registry
        .all()
        .filter((s) => s.open && s.role === 'client' && (!standardization || s.standardized) && this.mode.ready(s))
        .map((s) => s.summary);
    };
    const run: RunContext = { runId: this.runId, options: this.options, mode: this.mode, registry, log: this.log, audit: this.audit, auditing, report: (event, ...args) => this.report(event, ...args), eligible, roundTimeoutMs, waitMs };
    try {
      const { history, stoppedEarly } = await driveRounds(run, start.firstRound, start.ledger);
      await sendFinalModel(run, history.at(-1)?.round ?? start.firstRound - 1);
      const ending = stoppedEarly ?? `run ${this.runId} completed ${this.options.rounds} rounds`;
      for (const session of registry.all()) session.notify({ type: 'run-end', reason: ending });
      this.report('run-completed', { runId: this.runId, rounds: this.options.rounds });
      // Clients hang up once they have the message; closing first could cut it off in a socket buffer.
      await registry.waitForEmpty(5_000);
      return {
        runId: this.runId,
        ...this.mode.result(),
        history,
        ...(standardization ? { standardization: standardization.weights } : {}),
        ...(stoppedEarly ? { stoppedEarly } : {}),
      };
    } finally {
      this.off('client-joined', recordClient);
      this.off('schema-adopted', saveSchema);
      this.mode.close();
      this.server.flushRefusals();
    }
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

  /** Stops serving: closes every connection and the HTTP server. */
  async close(): Promise<void> {
    await this.server.close();
  }
}
