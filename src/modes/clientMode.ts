import type { Message, ModeHeader, StreamMetaOf } from '../protocol/messages.js';
import type { EncryptedRoundState } from '../protocol/encryptedLayout.js';
import type { TensorSpec } from '../protocol/tensors.js';
import type { FitConfig } from '../client/trainer.js';
import type { FitStep, TrainedUpdate } from '../client/mods/fitChain.js';
import type { SecureModeName } from './mode.js';

/** The global state a download carries: the model, and what a mode packs beside it (momentum, clip norm). */
export type GlobalState = EncryptedRoundState;

/** A download on its way in: `end` checks it is whole and returns how to read it (deferred: it may be slow). */
export interface DownloadSink {
  write(chunk: Uint8Array): void;
  end(): () => Promise<GlobalState>;
}

/** What a mode turns an update into: the upload's bytes, what its header says, and the metrics to report. */
export interface ProtectedUpload {
  readonly totalBytes: number;
  /** Async when worker threads make them (CKKS): each chunk is sent as soon as it exists. */
  readonly chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  readonly header: Pick<StreamMetaOf<'fit-result'>, 'encrypted' | 'masked' | 'compression'>;
  readonly metrics: Readonly<Record<string, number>>;
}

/** The signed agreement key (and whether the mode's run key is held) a client publishes in its handshake. */
export interface Announcement {
  readonly publicKey: string;
  readonly signature: string;
  readonly holdsKey: boolean;
}

/**
 * The client half of a secure-aggregation mode: its key set-up (messages it handles), how it reads the global
 * state it is sent, and how it protects this client's update. The client node holds no mode names: it asks
 * each mode whether a message, a download or a fit task is its own.
 */
export interface ClientMode {
  readonly name: SecureModeName;
  /** Control messages this mode handles (its key exchange). */
  readonly messages: readonly Message['type'][];
  handle(message: Message, runId: string): Promise<void> | void;
  /** What this client publishes in its handshake for `runId` (a key for boxes), if the mode has keys. */
  announce?(runId: string): Announcement;
  /** Whether this mode reads a download with this header. */
  readsDownload(header: ModeHeader): boolean;
  openDownload(header: ModeHeader, spec: readonly TensorSpec[]): DownloadSink;
  /**
   * The largest download this mode reads for a model of this spec, in bytes: what the node's transport accepts
   * from the coordinator is bounded by it (with every layout a task may pack: SCAFFOLD's [x; c], momentum...).
   */
  maxDownloadBytes(spec: readonly TensorSpec[]): number;
  /** Whether this mode protects the upload of a fit task with this config. */
  takesFit(config: FitConfig): boolean;
  /** Whether the mode hides this client's update from the coordinator (steps that would undo it conflict). */
  readonly protectsUpdates: boolean;
  /** The fit-chain steps a task of this mode adds before protection (plaintext clipping to the task's C). */
  steps(config: FitConfig): FitStep[];
  /**
   * Called as training starts, with the state it starts from: the mode may begin work the upload will need
   * that does not depend on the update (CKKS makes its encryption masks on worker threads while the node trains).
   */
  prepare?(state: GlobalState, config: FitConfig): void;
  protect(update: TrainedUpdate, state: GlobalState, config: FitConfig): Promise<ProtectedUpload>;
  dispose(): void;
}
