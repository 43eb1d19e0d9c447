import type { Logger } from 'pino';
import type { AccessList } from '../coordinator/accessList.js';
import type { AuditTrail } from '../coordinator/auditTrail.js';
import type { ClientRegistry } from '../coordinator/clientRegistry.js';
import type { ClientSession } from '../coordinator/clientSession.js';
import type { EncodedWeights } from '../coordinator/encodedWeights.js';
import type { PrivacySettings } from '../coordinator/privacyLedger.js';
import type { RoundRecord } from '../coordinator/roundRecord.js';
import type { RunStore } from '../coordinator/store/runStore.js';
import type { FitReport, FitTask, Metrics, Strategy, StrategyCapabilities, TaskFailure } from '../coordinator/strategy.js';
import type { AdaptiveClipping } from '../privacy/adaptiveClipping.js';
import type { CompressionOptions } from '../protocol/compression.js';
import type { Weights } from '../protocol/tensors.js';
import type { SecAggPlusOptions } from './secaggplus/settings.js';

/** The secure-aggregation modes: each is a folder here with a coordinator half and a client half. */
export type SecureModeName = 'plain' | 'ckks' | 'secaggplus';

/** What every mode is built from: the run's strategy, model, privacy settings and plumbing. */
export interface ModeContext {
  readonly runId: string;
  readonly strategy: Strategy;
  readonly initialWeights: Weights;
  /** The mode may write rounds over `initialWeights` (CoordinatorOptions.adoptInitialWeights); else it copies them first. */
  readonly adoptInitialWeights?: boolean;
  readonly chunkBytes: number;
  readonly access: AccessList;
  readonly log: Logger;
  readonly audit: AuditTrail;
  /** Client-level DP, when the run has it: the clip norm (for modes whose clients clip) and the multiplier. */
  readonly privacy?: PrivacySettings & { readonly clipNorm?: number | AdaptiveClipping };
  /** SecAgg+'s graph degree, threshold and quantization, when the run uses it. */
  readonly secaggplus?: SecAggPlusOptions;
  /** Update compression, when the run asks for it (only modes without a `compressionRefusal` get it). */
  readonly compression?: CompressionOptions;
  /** The run's seed, when it has one (seeds the compression's rounding coins, so reruns stay identical). */
  readonly seed?: number;
}

/** A fit phase that reached its deadline or all replies; `commit` makes it the round's result. */
export interface FitPhase {
  readonly reports: readonly FitReport[];
  readonly failures: readonly TaskFailure[];
  /** Turns the phase's sum into the next global state (only when enough updates arrived). */
  commit(): CommittedFit;
}

export interface CommittedFit {
  readonly metrics: Metrics;
  /**
   * Under distributed noise: the noise shares present (the clients that contributed) of the `selected` ones; the
   * ledger charges what they leave against the tolerated colluders. Absent under central noise.
   */
  readonly noiseShares?: { readonly present: number; readonly selected: number };
  /** The measurements of the round's aggregation (DP clipping counts, the clip norm), for the ledger. */
  readonly measurements: { readonly clipped?: number; readonly clipNorm?: number };
}

/** The run's state as a mode checkpointed it, read back to resume. */
export interface ModeCheckpoint {
  readonly round: number;
  readonly sha256: string;
  readonly strategyState: unknown;
}

/**
 * The coordinator half of a secure-aggregation mode: how the global state is kept and broadcast, how the
 * fit phase sums uploads, how it checkpoints and resumes, and what central evaluation may see. The round
 * driver holds no mode names: it calls these.
 */
export interface CoordinatorMode {
  readonly name: SecureModeName;
  /** The largest fit upload this mode can produce for the run's model (the transport refuses larger). */
  readonly maxUploadBytes: number;
  /** Before a task set: brings connected clients into the mode (key set-up). */
  prepare(registry: ClientRegistry, deadlineMs: number): Promise<void>;
  /** Whether a session can take this mode's tasks now. */
  ready(session: ClientSession): boolean;
  /** Sends the fit tasks with the global state and sums what arrives until the deadline. */
  fit(round: number, tasks: readonly FitTask[], registry: ClientRegistry, deadlineMs: number): Promise<FitPhase>;
  /** What evaluate tasks download: the current global state. */
  evaluationPayload(): EncodedWeights;
  /**
   * The global model alone, where evaluationPayload carries more (a fit payload's layout, SCAFFOLD's [x; c]): the
   * final model goes as this to a client that does not hold the evaluation payload.
   */
  modelPayload?(): EncodedWeights | undefined;
  /** The model central evaluation may see; undefined where the coordinator holds no model. */
  centralModel(): Weights | undefined;
  /** Reads the mode's last checkpoint from `store` and adopts it; undefined when there is none. */
  restore(store: RunStore): ModeCheckpoint | undefined;
  /** Stores the round and the new global state; returns the state's SHA-256 (for the audit log). */
  checkpoint(store: RunStore, record: RoundRecord, strategyState: unknown): string;
  /** The state's SHA-256 without a store. */
  stateHash(): string;
  /** What the run hands back: the model, or what the coordinator holds instead of one. */
  result(): { readonly weights: Weights; readonly encryptedModel?: { readonly sha256: string; readonly totalWeight: number; readonly bytes: number } };
  close(): void;
}

/** A mode as a registry entry: whether a strategy's capabilities suit it, and how to build its coordinator half. */
export interface ModeDefinition {
  readonly name: SecureModeName;
  /** Whether the mode hides individual updates from the coordinator (what insecure set-ups would undo). */
  readonly protectsUpdates: boolean;
  /** Why this mode cannot carry compressed updates (`compression:`), naming what controls its own encoding; undefined when it can. */
  readonly compressionRefusal?: string;
  /** Why a strategy with these capabilities cannot run in this mode, or undefined when it can. */
  refusal(capabilities: StrategyCapabilities): string | undefined;
  createCoordinator(context: ModeContext): CoordinatorMode;
}
