import type { FailureReason, Metrics } from '../strategy.js';
import type { FairnessSnapshot, RoundFairness } from './fairness.js';

/**
 * The JSON the dashboard and its API serve. Only what a researcher watching the run may see: names,
 * counts, metrics and timings; never keys, addresses, session ids or weights.
 */

/** One client's evaluation in one round. */
export interface ClientEvaluation {
  readonly client: string;
  readonly numExamples?: number;
  readonly loss?: number;
  readonly accuracy?: number;
  readonly metrics?: Metrics;
}

export interface DroppedClient {
  readonly client: string;
  readonly phase: 'fit' | 'evaluate';
  readonly reason: FailureReason;
  readonly detail: string;
}

export interface RoundView {
  readonly round: number;
  readonly attempts: number;
  /** Why earlier attempts of this round failed, oldest first. */
  readonly failedAttempts: readonly string[];
  /** Wall-clock times as ISO 8601; the start is the completion time less the round's duration. */
  readonly startedAt: string;
  readonly completedAt: string;
  readonly durationMs: number;
  readonly fitDurationMs: number;
  readonly evaluateDurationMs?: number;
  readonly selected: number;
  /** Clients whose update counted. */
  readonly participants: readonly string[];
  readonly dropped: readonly DroppedClient[];
  readonly trainMetrics: Metrics;
  /** Federated evaluation, aggregated by the strategy. */
  readonly loss?: number;
  readonly accuracy?: number;
  readonly evaluateMetrics?: Metrics;
  /** Central evaluation on the coordinator, when the strategy has one. */
  readonly centralLoss?: number;
  readonly centralAccuracy?: number;
  readonly clients: readonly ClientEvaluation[];
  /** Epsilon spent after this round, once a privacy accountant reports one. */
  readonly epsilon?: number;
}

export interface ClientRow {
  readonly name: string;
  readonly backend: string;
  readonly trainRows: number;
  readonly testRows: number;
  readonly status: 'connected' | 'left';
  readonly joinedAt: string;
  readonly leftAt?: string;
  readonly leftReason?: string;
  /** The client's own evaluation in the last round it was evaluated in. */
  readonly lastRound?: number;
  readonly lastAccuracy?: number;
  readonly lastLoss?: number;
}

/**
 * Differential-privacy budget spent so far. `configured: false` until a privacy accountant exists and
 * reports; then (epsilon, delta) as the accountant composes them, and the budget that stops training.
 */
export type PrivacyBudget =
  | { readonly configured: false }
  | { readonly configured: true; readonly epsilon: number; readonly delta: number; readonly targetEpsilon?: number; readonly mechanism?: string };

export type RunPhase = 'waiting' | 'training' | 'completed';

export interface RunStatus {
  readonly phase: RunPhase;
  /** The round in progress, or the last one completed. */
  readonly round: number;
  readonly attempt: number;
  /** Planned rounds, when known. */
  readonly rounds?: number;
  /** Clients selected for the round in progress. */
  readonly selected: readonly string[];
  readonly lastFailure?: string;
}

export interface DashboardSnapshot {
  readonly runId: string;
  readonly title: string;
  readonly status: RunStatus;
  readonly rounds: readonly RoundView[];
  readonly clients: readonly ClientRow[];
  readonly fairness: FairnessSnapshot;
  readonly privacy: PrivacyBudget;
}

/** What is pushed to open dashboards, as Server-Sent Event names and their data. */
export interface DashboardUpdateMap {
  snapshot: DashboardSnapshot;
  status: RunStatus;
  clients: readonly ClientRow[];
  round: { readonly round: RoundView; readonly fairness: RoundFairness; readonly privacy: PrivacyBudget };
  complete: RunStatus;
}

export type DashboardUpdate = { [K in keyof DashboardUpdateMap]: { readonly event: K; readonly data: DashboardUpdateMap[K] } }[keyof DashboardUpdateMap];
