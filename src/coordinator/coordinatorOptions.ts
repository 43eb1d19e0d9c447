import type { Logger } from 'pino';
import type { SecAggPlusOptions } from '../modes/secaggplus/settings.js';
import type { CompressionOptions } from '../protocol/compression.js';
import type { DataSchema } from '../protocol/dataSchema.js';
import type { PeerOptions } from '../protocol/peer.js';
import type { Weights } from '../protocol/tensors.js';
import type { Identity } from '../crypto/identity.js';
import type { AdaptiveClipping } from '../privacy/adaptiveClipping.js';
import type { RdpConversion } from '../privacy/rdpConversion.js';
import type { AccessList } from './accessList.js';
import type { AuditTrail } from './auditTrail.js';
import type { RoundRecord } from './roundRecord.js';
import type { TlsOptions } from './httpEndpoint.js';
import type { RunStore } from './store/runStore.js';
import type { Strategy } from './strategy.js';

/** How a coordinator runs a federation: the strategy and model, rounds, address, deadlines, security, privacy and store. */
export interface CoordinatorOptions {
  /** Who trains each round and how updates become the next global model. */
  readonly strategy: Strategy;
  /** The model of round 1 (named float32 tensors). Never written, unless `adoptInitialWeights`. */
  readonly initialWeights: Weights;
  /**
   * The coordinator keeps the global model in its own arrays and writes each round's step over them (no second
   * model per round). By default it copies `initialWeights` into them once (one model of memory more while the
   * caller holds its own); `true` adopts the caller's arrays instead, which the rounds then overwrite: for a big
   * model made only to be trained (the CLI's runs do this). The run-started audit entry still hashes round 1's model.
   */
  readonly adoptInitialWeights?: boolean;
  /** Rounds to run. */
  readonly rounds: number;
  /** Address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** 0 picks a free port (see `url` after start). */
  readonly port?: number;
  /** Deadline for each fit and each evaluation phase, from sending the weights to the last reply. */
  readonly roundTimeoutMs?: number;
  /** How long a round waits for `minAvailableClients` before the run fails. */
  readonly waitForClientsMs?: number;
  /** A round with too few results is retried this many times before the run fails. */
  readonly maxRoundRetries?: number;
  /** Seeds cohort sampling (default 0): the same seed samples the same cohorts. */
  readonly seed?: number;
  /** The run's id (default: a fresh UUID); set it to continue a stored run. */
  readonly runId?: string;
  /** A pino logger (default: warnings and errors to stderr). */
  readonly logger?: Logger;
  /** Chunk size and stream timeouts of weight transfers. */
  readonly transfer?: Partial<PeerOptions>;
  /** A connection that has not authenticated within this time is refused (default 5 s: one round trip and a signature). */
  readonly helloTimeoutMs?: number;
  /** The coordinator's Ed25519 identity, which clients pin. Default: a fresh one for this process. */
  readonly identity?: Identity;
  /** Who may connect. Default: anyone (each client still proves its key and signs its uploads). */
  readonly access?: AccessList;
  /** Security-relevant events go here (the signed, hash-chained audit log). */
  readonly audit?: AuditTrail;
  /** Serve HTTPS/WSS instead of plain HTTP. */
  readonly tls?: TlsOptions;
  /** Connection attempts per address in a sliding minute (default 120). */
  readonly maxConnectionsPerMinute?: number;
  /** Connections not yet authenticated, overall (default 64); shared fairly between addresses. */
  readonly maxPendingHandshakes?: number;
  /** Open connections from one address (default 128; twice that from one IPv6 /64). */
  readonly maxConnectionsPerAddress?: number;
  /**
   * The most training examples a client may announce at hello: a site announcing more is refused for good, naming
   * both numbers. It caps each client's weight, since a result may not claim more than its client announced.
   */
  readonly maxExamplesPerClient?: number;
  /**
   * Number of input features to standardize with federation-wide statistics before round 1 (clients need
   * a FeatureScaler). Unset: clients use their data as they prepared it.
   */
  readonly standardizeFeatures?: number;
  /**
   * The study's data schema (feature columns in model order, types, levels, label). Every training client must
   * announce the same one at hello or is refused with the difference in column terms. Unset: the first site to
   * announce a schema sets it for the run (pinning is better: then no site's mistake can become the reference).
   */
  readonly dataSchema?: DataSchema;
  /** Receives the federation-wide standardization once computed (e.g. to scale a central test set). */
  readonly onStandardization?: (standardization: Weights) => void | Promise<void>;
  /**
   * Records the run (manifest, rounds, participants, checkpoints). With `resume`, the run continues from
   * the store's last completed round: same run id, checkpointed model, strategy state and standardization.
   */
  readonly store?: RunStore;
  /** Continue the store's run `runId` from its last completed round. */
  readonly resume?: boolean;
  /** Stored with a new run: what produced it (config, seeds, versions). */
  readonly manifest?: unknown;
  /** The experiment's name, stored with a new run. */
  readonly experimentName?: string;
  /**
   * `ckks`: clients upload their weighted models under CKKS homomorphic encryption with a key dealt among
   * them; the coordinator only adds ciphertexts and never holds an update, the global model or the key.
   */
  readonly secureAggregation?: 'plain' | 'ckks' | 'secaggplus';
  /**
   * SecAgg+'s neighbours (k), threshold (t), ring bits and clipping range, with `secureAggregation: secaggplus`:
   * clients mask their quantized updates in pairs; the coordinator learns the mean of at least t of them.
   */
  readonly secaggplus?: SecAggPlusOptions;
  /**
   * Update compression (plain mode): `{ method: 'int8', deflate? }` (8-bit stochastic rounding, about 4x fewer upload
   * bytes; deflated, about 6x on MNIST)
   * or `{ method: 'topk', fraction }` (the largest `fraction` of values, 1 / (2 fraction) fewer), both with error
   * feedback on the clients. Refused under ckks and secaggplus, with the reason. Downloads stay float32.
   */
  readonly compression?: CompressionOptions;
  /**
   * Risks the operator accepts for secure aggregation on a non-loopback address: `open-access` (anyone who
   * proves a key may join and receive the CKKS key) and `plain-http` (no TLS: metadata, metrics and
   * ciphertexts travel unencrypted); under `privacy`, `feature-moments` (federated standardization sends each
   * client's exact feature moments and row count in the clear, outside the guarantee). Without them such a
   * set-up is refused at start.
   */
  readonly acceptRisks?: readonly ('open-access' | 'plain-http' | 'feature-moments')[];
  /**
   * Client-level DP-FedAvg (McMahan et al. 2018), set up from this one option: with `clipNorm`, clients clip their
   * updates to C, the noise is added (plain: N(0, (zC)^2) on each round's sum at the coordinator, which clips again;
   * ckks: each client's share), and the ledger accounts epsilon under replace-one adjacency (sensitivity 2C, so
   * charged at z / 2), stopping the run before a round whose worst case would pass `targetEpsilon`. Without `clipNorm` the strategy must already aggregate with a DpMean at the same
   * noise multiplier, or the run is refused: an epsilon is never printed for a run that adds no noise.
   */
  readonly privacy?: PrivacyOptions;
  /** @deprecated `privacy.clipNorm` says the same (under CKKS, the C clients clip to before adding their noise share). */
  readonly privacyClipNorm?: number | AdaptiveClipping;
  /** Hash of the experiment's configuration, stored with a new run (a resume checks it). */
  readonly configHash?: string;
  /** Called after each completed round: progress lines, dashboards, stores. */
  readonly onRound?: (record: RoundRecord) => void;
}

/** Client-level DP for a run (see CoordinatorOptions.privacy). */
export interface PrivacyOptions {
  /** z: the noise on each round's sum has standard deviation z C. */
  readonly noiseMultiplier: number;
  /** The delta of the (epsilon, delta) guarantee. */
  readonly delta: number;
  /** The run stops before a round that could take epsilon past this, in the worst case the round can end in. */
  readonly targetEpsilon?: number;
  /** How RDP converts to (epsilon, delta) (default `improved`). */
  readonly conversion?: RdpConversion;
  /** C, fixed or adaptive (Andrew et al. 2021): set, it makes the coordinator set up clipping and noise itself. */
  readonly clipNorm?: number | AdaptiveClipping;
  /**
   * Secure modes (distributed noise): how many colluding clients the guarantee holds against, each knowing its
   * own noise share. Default 1 (any one curious client); minFitClients must exceed it.
   */
  readonly colluders?: number;
}

/** What a finished run gives back. */
export interface RunResult {
  /** The run's id (the store's key). */
  readonly runId: string;
  /** The final global model (empty under CKKS: see {@link RunResult.encryptedModel}; the clients hold the model, {@link ClientHandle.globalWeights}). */
  readonly weights: Weights;
  /** Every completed round, in order. */
  readonly history: readonly RoundRecord[];
  /** The federation-wide feature mean and std, when the run standardized features. */
  readonly standardization?: Weights;
  /** Why the run ended before its last round (the privacy budget), if it did. */
  readonly stoppedEarly?: string;
  /** Under CKKS: what the coordinator holds instead of a model (`weights` is then empty). */
  readonly encryptedModel?: { readonly sha256: string; readonly totalWeight: number; readonly bytes: number };
}

/** The run cannot start or go on: a refused configuration, too few clients, a halt. The message says which. */
export class RunError extends Error {
  /** Always `RunError`. */
  override readonly name = 'RunError';
}
