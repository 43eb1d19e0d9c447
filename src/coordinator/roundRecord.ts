import type { EvaluationSummary, FailureReason, Metrics } from './strategy.js';

/** One client's task in a round: its counts and metrics, or why it failed. */
export interface ClientOutcome {
  /** The client's name. */
  readonly client: string;
  /** Examples it trained or evaluated on. */
  readonly numExamples?: number;
  /** Its loss (evaluation tasks). */
  readonly loss?: number;
  /** Its metrics. */
  readonly metrics?: Metrics;
  /** Set when the task did not count. */
  readonly failure?: { readonly reason: FailureReason; readonly detail: string };
}

/** Everything a completed round leaves behind, for progress lines, the history and later the store. */
export interface RoundRecord {
  /** The round number, from 1. */
  readonly round: number;
  /** Attempts this round took (1 unless it failed and was retried). */
  readonly attempts: number;
  /** The fit phase: who was asked, each outcome, the aggregated metrics and timings. */
  readonly fit: {
    readonly selected: number;
    readonly outcomes: readonly ClientOutcome[];
    readonly metrics: Metrics;
    readonly durationMs: number;
    /**
     * Where the fit phase's time went: the slowest client's local training, the coordinator's aggregation
     * and update, and the rest (streaming weights down and updates up, waiting).
     */
    readonly timing?: { readonly trainingMs: number; readonly aggregationMs: number; readonly transferMs: number };
  };
  /** The federated evaluation, when clients evaluated. */
  readonly evaluate?: EvaluationSummary & {
    readonly outcomes: readonly ClientOutcome[];
    readonly durationMs: number;
  };
  /** The coordinator's central evaluation, when the strategy has one. */
  readonly central?: EvaluationSummary;
  /** Differential privacy spent so far (client-level, RDP accountant), when the run is private. */
  readonly privacy?: {
    readonly epsilon: number;
    readonly delta: number;
    /** The noise present: its std over C (z, or less where distributed shares went missing). */
    readonly noiseMultiplier: number;
    /**
     * The adjacency the accountant assumed: `replace-one` (one client's update replaced by another; the clipped
     * sum's sensitivity 2C), since the mean divides by the released contributor count.
     */
    readonly adjacency?: 'replace-one';
    /** The multiplier the accountant was charged with: noiseMultiplier / 2 under replace-one (std zC over sensitivity 2C). */
    readonly chargedMultiplier?: number;
    /** q, the sampling rate the accountant was charged with. */
    readonly sampleRate: number;
    /** The cohort's share of the eligible clients (what q would be, were the cohort secret and Poisson-drawn). */
    readonly cohortFraction?: number;
    /** The sampling the accountant assumed: `public-cohort`, drawn from the published seed, so q = 1. */
    readonly sampling?: 'public-cohort';
    readonly clipped?: number;
    readonly clipNorm?: number;
  };
  /** The whole round (ms). */
  readonly durationMs: number;
}
