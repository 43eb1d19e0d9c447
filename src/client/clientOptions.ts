import type { Logger } from 'pino';
import type { Identity } from '../crypto/identity.js';
import type { DataSchema } from '../protocol/dataSchema.js';
import type { PeerOptions } from '../protocol/peer.js';
import type { Weights } from '../protocol/tensors.js';
import type { FeatureScaler } from './featureScaler.js';
import type { LeaveAt } from './dropouts/dropoutSchedule.js';
import type { Retry } from './node/reconnect.js';
import type { ClientSecurityPolicy } from './security/securityPolicy.js';
import type { Trainer } from './trainer.js';

/** How a client node connects, what it trains with, and what it accepts from the coordinator. */
export interface ClientOptions {
  /** The coordinator's address, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** This node's name as the coordinator lists it. */
  readonly name: string;
  /** The training code: a TfjsTrainer or any `Trainer`. */
  readonly trainer: Trainer;
  /** Needed only for experiments with federated standardization. */
  readonly scaler?: FeatureScaler;
  /**
   * The local data's schema (feature columns in model order, types, categorical levels, label), announced at
   * hello: the coordinator refuses a site whose columns differ from the study's before any training. Names and
   * levels only, never values. `loadCsvData(...).meta.schema` gives it for a CSV.
   */
  readonly dataSchema?: DataSchema;
  /** This node's Ed25519 identity (the key the coordinator's access list names). Default: a fresh one. */
  readonly identity?: Identity;
  /** The coordinator's public key. Pin it: without it any coordinator that completes a handshake is trusted. */
  readonly coordinatorKey?: Uint8Array;
  /** For https:// coordinators (PEM text): the CA that signed its certificate, and this node's certificate and key for mutual TLS. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /**
   * Local differential privacy: this node clips its own update to L2 norm `clipNorm` and adds Gaussian noise
   * of standard deviation noiseMultiplier x clipNorm before it leaves, whatever the coordinator does; the node
   * accounts its own epsilon (Gaussian mechanism, one release per round it trains in) and reports it in events.
   */
  readonly localPrivacy?: { readonly clipNorm: number; readonly noiseMultiplier: number; readonly delta: number };
  /**
   * What this node accepts, whatever the coordinator asks: the secure-aggregation mode it requires, the DP
   * floor, whether feature statistics may leave, and the federation roster CKKS keys go to. See
   * security/securityPolicy.ts.
   */
  readonly security?: ClientSecurityPolicy;
  /** Records what this node sent (payload hashes, rounds, signatures): the hospital's own audit log. */
  readonly audit?: {
    /** Appends one entry: its type and JSON data. */
    append(type: string, data: Readonly<Record<string, unknown>>): void;
  };
  /** A pino logger (default: warnings and errors to stderr). */
  readonly logger?: Logger;
  /**
   * Reconnection backoff, for every transient failure (no coordinator yet, a lost connection, a refusal for
   * load): the first delay (default 1 s), doubled per failed attempt with jitter up to the cap (default 30 s).
   * A busy coordinator's advised delay is waited out in full. The node retries forever.
   */
  readonly reconnectDelayMs?: number;
  /** The cap on the reconnection delay (default 30 s). */
  readonly reconnectDelayMaxMs?: number;
  /** Chunk size and stream timeouts of weight transfers. */
  readonly transfer?: Partial<PeerOptions>;
  /**
   * Worker threads that encrypt and decrypt under CKKS, each holding the run's key in its own SEAL instance;
   * they also make the next upload's masks (the half of encryption that does not need the update) while this
   * node trains. Default: one per core but one, 1 to 8; 0 keeps the work on the node's own thread.
   */
  readonly ckksThreads?: number;
  /** Observes what the node does (joined, fit done, refused...), for CLIs and tests. */
  readonly onEvent?: (event: ClientEvent) => void;
  /** For simulations and tests only: injected faults, and a view of what the node otherwise keeps to itself. */
  readonly simulation?: SimulationHooks;
}

/** Fault injection and observation for simulated nodes; a deployed node sets none of this. */
export interface SimulationHooks {
  /**
   * Where this node leaves a round (dropouts/dropoutSchedule.ts gives a seeded plan): it disconnects before
   * training and uploading, or right after its upload was accepted, and reconnects as after any lost connection.
   */
  readonly leaveAt?: LeaveAt;
  /**
   * Under SecAgg+: this node's quantized (or, under DP, noised) update in Z_(2^32), before its masks are added.
   * The array is the caller's to keep. A harness sums the survivors' to check the coordinator's unmasked sum.
   */
  readonly onSecAggEncoded?: (round: number, encoded: Uint32Array) => void;
}

/** What a client node reports as it runs, by `type`. */
export type ClientEvent =
  | { readonly type: 'connected' }
  | { readonly type: 'welcome'; readonly runId: string; readonly clientId: string }
  | { readonly type: 'disconnected'; readonly reason: string }
  /** The next connection attempt is scheduled (see node/reconnect.ts: describeRetry words it for people). */
  | ({ readonly type: 'retrying' } & Retry)
  /** A connection attempt failed on a TLS set-up mistake (a missing client certificate or CA, http:// for https://): the fix, in one sentence. Said once per distinct mistake; the node keeps retrying. */
  | { readonly type: 'tls-problem'; readonly problem: string }
  | { readonly type: 'fit'; readonly round: number; readonly numExamples: number; readonly metrics: Readonly<Record<string, number>> }
  /** The node left the round on purpose (SimulationHooks.leaveAt). */
  | { readonly type: 'left'; readonly round: number; readonly step: 'before-upload' | 'after-upload' }
  | { readonly type: 'evaluate'; readonly round: number; readonly loss: number; readonly metrics: Readonly<Record<string, number>> }
  /** The run's last global state arrived (after `round`) and is kept as this node's final model. */
  | { readonly type: 'final-model'; readonly round: number }
  | { readonly type: 'task-failed'; readonly round: number; readonly reason: string }
  | { readonly type: 'refused'; readonly reason: string }
  | { readonly type: 'run-end'; readonly reason: string }
  | { readonly type: 'standardized'; readonly features: number }
  | { readonly type: 'local-privacy'; readonly round: number; readonly epsilon: number; readonly delta: number };

/** A running client node. */
export interface ClientHandle {
  /** Resolves when the coordinator ends the run; rejects if it refuses this client for good. */
  readonly done: Promise<string>;
  /** The last global model this node received (decrypted, in CKKS mode): the final model once the run ends. */
  globalWeights(): Weights | undefined;
  /** Disconnects and stops the node; `done` then settles. */
  stop(): Promise<void>;
}
