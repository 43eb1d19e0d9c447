/** What bench/ckksRound.ts records of one federation: its rounds, the clients' marks, bytes, memory and check. */
import type { ByteCount } from './byteCountingProxy.js';
import type { Mark } from '../ckksRoundClient.js';
import type { SumTiming } from '../ckksRoundCoordinator.js';

export type Mode = 'plain' | 'ckks';

export interface RoundData {
  readonly round: number;
  readonly startedAt: number;
  readonly completedAt: number;
  readonly durationMs: number;
  readonly fitMs: number;
  readonly evaluateMs: number;
  readonly attempts: number;
  /** CPU seconds (all threads) at the round's end: the coordinator's process, and this one (the proxies). */
  readonly coordinatorCpu: number;
  readonly proxyCpu: number;
  readonly sum: SumTiming;
  readonly payloadIn: number;
  readonly payloadOut: number;
  /** Socket bytes per client from the end of the previous round (or 'go') to the end of this one. */
  readonly bytes: readonly ByteCount[];
}

export interface TimedMark {
  readonly name: string;
  readonly mark: Mark;
  readonly at: number;
  /** The client process's CPU seconds (all threads) at the mark. */
  readonly cpu: number;
  readonly bytes?: number;
  /** On encrypt-end: ciphertexts of the upload encrypted on masks made ahead. */
  readonly masked?: number;
}

export interface FederationResult {
  readonly mode: Mode;
  readonly params: number;
  readonly rounds: RoundData[];
  /** Per client: connect, hello, challenge, auth, welcome (everything before the run starts). */
  readonly connectBytes: readonly ByteCount[];
  /** Per client: from the run's start to round 1's start (under CKKS: the key deal and the key boxes). */
  readonly setupBytes: readonly ByteCount[];
  /** Per client: after the last round (run-end, close). */
  readonly teardownBytes: readonly ByteCount[];
  readonly totalBytes: readonly ByteCount[];
  readonly connections: number;
  readonly coordinator: { rssStart: number; rssWithModel: number; maxRss: number; cpuSeconds: number; runMs: number; encryptedModelBytes?: number };
  readonly clientMaxRss: readonly number[];
  readonly marks: readonly TimedMark[];
  readonly check: { readonly maxDiff: number; readonly detail: string };
}

/** The rounds after the first (no key setup, the global already held), or the only one. */
export const steadyRounds = (r: FederationResult) => (r.rounds.length > 1 ? r.rounds.filter((x) => x.round > 1) : r.rounds);
