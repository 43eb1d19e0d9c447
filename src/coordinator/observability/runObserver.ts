import type { EventEmitter } from 'node:events';
import type { CoordinatorEventMap } from '../coordinatorEvents.js';
import type { RoundRecord } from '../roundRecord.js';
import type { ClientSummary } from '../strategy.js';
import type { ClientRow, DashboardSnapshot, DashboardUpdate, PrivacyBudget, RoundView, RunStatus } from './dashboardModel.js';
import { FairnessTracker, type FairnessSnapshot } from './fairness.js';
import { toRoundView } from './roundView.js';

/** What the dashboard shows beside the coordinator's events. */
export interface RunObserverOptions {
  /** Shown as the dashboard's heading (the experiment's name). */
  readonly title?: string;
  /** Planned rounds, for "round r of n" before the run ends. */
  readonly rounds?: number;
  /** Read after every round; unset until a privacy accountant exists, which shows "not configured". */
  readonly privacy?: () => PrivacyBudget;
  /** The clock for join, leave and completion times (default: the system's). */
  readonly now?: () => Date;
}

type Listeners = { [K in keyof CoordinatorEventMap]: (...args: CoordinatorEventMap[K]) => void };

const notConfigured: PrivacyBudget = { configured: false };

/**
 * Follows one run through the coordinator's events and keeps what the dashboard shows: the round history,
 * the client table, fairness, the privacy budget and the run's status. Listeners get each change.
 */
export class RunObserver {
  private readonly history: RoundView[] = [];
  private readonly table = new Map<string, { row: ClientRow; sessionId: string }>();
  private readonly tracker = new FairnessTracker();
  private readonly listeners = new Set<(update: DashboardUpdate) => void>();
  private failedAttempts: string[] = [];
  private status: RunStatus;
  private readonly now: () => Date;
  private readonly subscriptions: Listeners;

  constructor(
    private readonly coordinator: EventEmitter<CoordinatorEventMap> & { readonly runId: string },
    private readonly options: RunObserverOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.status = { phase: 'waiting', round: 0, attempt: 0, selected: [], ...(options.rounds !== undefined ? { rounds: options.rounds } : {}) };
    this.subscriptions = {
      'client-joined': (client) => this.joined(client),
      'client-left': (client, reason) => this.left(client, reason),
      'round-started': ({ round, attempt, selected }) => this.setStatus({ ...this.status, phase: 'training', round, attempt, selected: [...selected] }),
      'round-failed': ({ message }) => {
        this.failedAttempts.push(message);
        this.setStatus({ ...this.status, selected: [], lastFailure: message });
      },
      'round-completed': (record) => this.completed(record),
      'run-completed': ({ rounds }) => {
        this.runEnded();
        this.status = { ...this.status, phase: 'completed', rounds, selected: [] };
        this.publish({ event: 'complete', data: this.status });
      },
      refused: () => undefined,
      'schema-refused': () => undefined,
      'tls-mistake': () => undefined,
      'schema-adopted': () => undefined,
      traffic: () => undefined,
    };
    for (const [event, listener] of Object.entries(this.subscriptions)) coordinator.on(event as keyof CoordinatorEventMap, listener as () => void);
  }

  /** Stops following the coordinator (the state stays readable). */
  detach(): void {
    for (const [event, listener] of Object.entries(this.subscriptions)) this.coordinator.off(event as keyof CoordinatorEventMap, listener as () => void);
    this.listeners.clear();
  }

  /** Calls `listener` with every change; returns a function that stops it. */
  onUpdate(listener: (update: DashboardUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The run's progress now. */
  get runStatus(): RunStatus {
    return this.status;
  }

  /** Completed rounds, oldest first. */
  rounds(): readonly RoundView[] {
    return [...this.history];
  }

  /** Every client seen, with its status and latest evaluation. */
  clients(): readonly ClientRow[] {
    return [...this.table.values()].map((c) => c.row);
  }

  /** Fairness per round and the latest. */
  fairness(): FairnessSnapshot {
    return this.tracker.snapshot();
  }

  /** The privacy budget spent (or `configured: false`). */
  privacy(): PrivacyBudget {
    return this.options.privacy?.() ?? notConfigured;
  }

  /** Everything the dashboard shows now. */
  snapshot(): DashboardSnapshot {
    return {
      runId: this.coordinator.runId,
      title: this.options.title ?? 'Cohort federation',
      status: this.status,
      rounds: this.rounds(),
      clients: this.clients(),
      fairness: this.fairness(),
      privacy: this.privacy(),
    };
  }

  private publish(update: DashboardUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  private setStatus(status: RunStatus): void {
    this.status = status;
    this.publish({ event: 'status', data: status });
  }

  private joined(client: ClientSummary): void {
    const previous = this.table.get(client.name)?.row;
    const row: ClientRow = {
      ...(previous?.lastRound !== undefined ? { lastRound: previous.lastRound } : {}),
      ...(previous?.lastAccuracy !== undefined ? { lastAccuracy: previous.lastAccuracy } : {}),
      ...(previous?.lastLoss !== undefined ? { lastLoss: previous.lastLoss } : {}),
      name: client.name,
      backend: client.backend,
      trainRows: client.numTrainExamples,
      testRows: client.numTestExamples,
      status: 'connected',
      joinedAt: this.now().toISOString(),
    };
    this.table.set(client.name, { row, sessionId: client.id });
    this.publish({ event: 'clients', data: this.clients() });
  }

  /**
   * The run is over: every client still connected is about to hang up, and the dashboard's last state (the page
   * keeps it after the coordinator exits) must not show them connected.
   */
  private runEnded(): void {
    const connected = [...this.table.entries()].filter(([, e]) => e.row.status === 'connected');
    if (connected.length === 0) return;
    const at = this.now().toISOString();
    for (const [name, entry] of connected) this.table.set(name, { ...entry, row: { ...entry.row, status: 'left', leftAt: at, leftReason: 'the run ended' } });
    this.publish({ event: 'clients', data: this.clients() });
  }

  private left(client: ClientSummary, reason: string): void {
    const entry = this.table.get(client.name);
    // A reconnect replaces the old session first; the old one's departure must not mark the new one left.
    // A client already marked left (the run ended) keeps that reason when its socket then closes.
    if (!entry || entry.sessionId !== client.id || entry.row.status === 'left') return;
    this.table.set(client.name, { ...entry, row: { ...entry.row, status: 'left', leftAt: this.now().toISOString(), leftReason: reason } });
    this.publish({ event: 'clients', data: this.clients() });
  }

  private completed(record: RoundRecord): void {
    const privacy = this.privacy();
    const round = toRoundView(record, {
      completedAt: this.now(),
      failedAttempts: this.failedAttempts,
      ...(privacy.configured ? { epsilon: privacy.epsilon } : {}),
    });
    this.failedAttempts = [];
    this.history.push(round);
    const fairness = this.tracker.observe(record);
    for (const e of round.clients) {
      const entry = this.table.get(e.client);
      if (!entry) continue;
      const { lastAccuracy: _a, lastLoss: _l, ...rest } = entry.row;
      const row: ClientRow = { ...rest, lastRound: round.round, ...(e.accuracy !== undefined ? { lastAccuracy: e.accuracy } : {}), ...(e.loss !== undefined ? { lastLoss: e.loss } : {}) };
      this.table.set(e.client, { ...entry, row });
    }
    const { lastFailure: _failure, ...status } = this.status;
    this.status = { ...status, round: record.round, selected: [] };
    this.publish({ event: 'round', data: { round, fairness, privacy } });
    this.publish({ event: 'clients', data: this.clients() });
    this.publish({ event: 'status', data: this.status });
  }
}
