import type { FailureReason, Metrics } from '../strategy.js';
import type { FairnessSnapshot, RoundFairness } from './fairness.js';

/**
 * The JSON the dashboard and its API serve. Only what a researcher watching the run may see: names,
 * counts, metrics and timings; never keys, addresses, session ids or weights.
 */

/** One client's evaluation in one round. */
export interface ClientEvaluation {
  /** The client's name. */
  readonly client: string;
  /** Rows it evaluated on. */
  readonly numExamples?: number;
  /** Its evaluation loss. */
  readonly loss?: number;
  /** Its `metrics.accuracy`, when reported. */
  readonly accuracy?: number;
  /** Every metric it reported. */
  readonly metrics?: Metrics;
}

/** A client whose task in a round did not count, and why. */
export interface DroppedClient {
  /** The client's name. */
  readonly client: string;
  /** The task it failed: training or evaluation. */
  readonly phase: 'fit' | 'evaluate';
  /** The kind of failure. */
  readonly reason: FailureReason;
  /** The cause in words. */
  readonly detail: string;
}

/** A completed round as the dashboard shows it: timings, who took part, who dropped and why, and the metrics. */
export interface RoundView {
  /** The round number, from 1. */
  readonly round: number;
  /** Attempts the round took (1 unless it failed and was retried). */
  readonly attempts: number;
  /** Why earlier attempts of this round failed, oldest first. */
  readonly failedAttempts: readonly string[];
  /** Wall-clock times as ISO 8601; the start is the completion time less the round's duration. */
  readonly startedAt: string;
  /** When it completed, ISO 8601. */
  readonly completedAt: string;
  /** The whole round, fit and evaluation (ms). */
  readonly durationMs: number;
  /** The fit phase (ms). */
  readonly fitDurationMs: number;
  /** The federated evaluation (ms), when there was one. */
  readonly evaluateDurationMs?: number;
  /** Clients asked to train. */
  readonly selected: number;
  /** Clients whose update counted. */
  readonly participants: readonly string[];
  /** Clients whose fit or evaluation did not count, and why. */
  readonly dropped: readonly DroppedClient[];
  /** The training metrics, aggregated by the strategy. */
  readonly trainMetrics: Metrics;
  /** Federated evaluation, aggregated by the strategy. */
  readonly loss?: number;
  /** Federated accuracy, when the clients report `accuracy`. */
  readonly accuracy?: number;
  /** Every aggregated evaluation metric. */
  readonly evaluateMetrics?: Metrics;
  /** Central evaluation on the coordinator, when the strategy has one. */
  readonly centralLoss?: number;
  /** Central accuracy, when the central evaluation reports one. */
  readonly centralAccuracy?: number;
  /** Each client's own evaluation this round. */
  readonly clients: readonly ClientEvaluation[];
  /** Epsilon spent after this round, once a privacy accountant reports one. */
  readonly epsilon?: number;
}

/** A client in the dashboard's table: its data's size, whether it is connected, and its latest evaluation. */
export interface ClientRow {
  /** The client's name. */
  readonly name: string;
  /** Its tfjs backend. */
  readonly backend: string;
  /** Training rows it announced. */
  readonly trainRows: number;
  /** Held-out rows it announced. */
  readonly testRows: number;
  /** Whether its session is open. */
  readonly status: 'connected' | 'left';
  /** When it (last) joined, ISO 8601. */
  readonly joinedAt: string;
  /** When it left, ISO 8601. */
  readonly leftAt?: string;
  /** Why it left (`the run ended` once the run is over). */
  readonly leftReason?: string;
  /** The client's own evaluation in the last round it was evaluated in. */
  readonly lastRound?: number;
  /** Its accuracy in `lastRound`. */
  readonly lastAccuracy?: number;
  /** Its loss in `lastRound`. */
  readonly lastLoss?: number;
}

/**
 * Differential-privacy budget spent so far. `configured: false` until a privacy accountant exists and
 * reports; then (epsilon, delta) as the accountant composes them, and the budget that stops training.
 */
export type PrivacyBudget =
  | { readonly configured: false }
  | { readonly configured: true; readonly epsilon: number; readonly delta: number; readonly targetEpsilon?: number; readonly mechanism?: string };

/** Where the run is: waiting for clients, training rounds, or over. */
export type RunPhase = 'waiting' | 'training' | 'completed';

/** The run's progress, as the dashboard's header shows it. */
export interface RunStatus {
  /** Where the run is. */
  readonly phase: RunPhase;
  /** The round in progress, or the last one completed. */
  readonly round: number;
  /** The attempt at that round (above 1 after a failed attempt). */
  readonly attempt: number;
  /** Planned rounds, when known. */
  readonly rounds?: number;
  /** Clients selected for the round in progress. */
  readonly selected: readonly string[];
  /** Why the last attempt failed, until a round completes. */
  readonly lastFailure?: string;
}

/** Everything the dashboard shows at one moment (`/api/snapshot`, and the first event of every stream). */
export interface DashboardSnapshot {
  /** The run's id. */
  readonly runId: string;
  /** The heading: the experiment's name. */
  readonly title: string;
  /** Progress. */
  readonly status: RunStatus;
  /** Completed rounds, oldest first. */
  readonly rounds: readonly RoundView[];
  /** Every client seen in this run. */
  readonly clients: readonly ClientRow[];
  /** The spread of the clients' metrics per round and each client's drift. */
  readonly fairness: FairnessSnapshot;
  /** The privacy budget spent. */
  readonly privacy: PrivacyBudget;
}

/** What is pushed to open dashboards, as Server-Sent Event names and their data. */
export interface DashboardUpdateMap {
  /** The whole state, sent first to every new stream. */
  snapshot: DashboardSnapshot;
  /** Progress changed (a round started, failed or completed). */
  status: RunStatus;
  /** The client table changed (a join or a departure). */
  clients: readonly ClientRow[];
  /** A round completed: its view, its fairness figures and the budget after it. */
  round: { readonly round: RoundView; readonly fairness: RoundFairness; readonly privacy: PrivacyBudget };
  /** The run is over; readers close their stream. */
  complete: RunStatus;
}

/** One pushed update: an event name of `DashboardUpdateMap` with its data. */
export type DashboardUpdate = { [K in keyof DashboardUpdateMap]: { readonly event: K; readonly data: DashboardUpdateMap[K] } }[keyof DashboardUpdateMap];
