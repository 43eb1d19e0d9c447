import { isLoopbackHost } from '../../protocol/loopback.js';
import { Roster, type RosterEntry } from './roster.js';

export { isLoopbackHost };

/** Risks an operator may accept explicitly; each is refused otherwise when secure aggregation is required. */
export type AcceptedRisk = 'plain-http';

/**
 * What a hospital's node accepts, from its own config: the coordinator's word never widens it. A task outside
 * it is refused (the coordinator is told why) and written to the node's audit log.
 */
export interface ClientSecurityPolicy {
  /** The secure-aggregation mode this node requires: a task in another mode, a plaintext one included, is refused. */
  readonly mode?: 'plain' | 'ckks';
  /**
   * Client-level DP floor: the noise a round's aggregate carries, as a multiple of the clip norm, must be at
   * least this. Checkable only where this node adds its own share (ckks); plain-mode central noise is the
   * coordinator's word, so a plain task is refused when this is set.
   */
  readonly minNoiseMultiplier?: number;
  /** The largest clip norm (L2) this node lets a task set for its update. */
  readonly maxClipNorm?: number;
  /** Whether feature statistics (federated standardization's moments) may leave: default yes, no when mode is ckks. */
  readonly featureStatistics?: boolean;
  /** The study's participants: CKKS dealers and key-box recipients must be on it. Required with mode ckks. */
  readonly roster?: readonly RosterEntry[];
  readonly acceptRisks?: readonly AcceptedRisk[];
  /** SHA-256 (hex) of the model.json this node accepts to train, when the experiment's model is a file: another is refused. */
  readonly modelSha256?: string;
}

/** The policy checked and ready to apply. */
export interface ResolvedSecurityPolicy {
  readonly mode?: 'plain' | 'ckks';
  readonly minNoiseMultiplier?: number;
  readonly maxClipNorm?: number;
  readonly featureStatistics: boolean;
  readonly roster?: Roster;
}

/** Checks a policy before any connection is made; throws naming the setting to fix. */
export function resolveSecurityPolicy(policy: ClientSecurityPolicy | undefined, url: string): ResolvedSecurityPolicy {
  if (!policy) return { featureStatistics: true };
  const { mode, minNoiseMultiplier, maxClipNorm } = policy;
  if (minNoiseMultiplier !== undefined && !(minNoiseMultiplier >= 0 && Number.isFinite(minNoiseMultiplier))) {
    throw new Error(`security.minNoiseMultiplier must be a finite number >= 0, got ${minNoiseMultiplier}`);
  }
  if (maxClipNorm !== undefined && !(maxClipNorm > 0 && Number.isFinite(maxClipNorm))) throw new Error(`security.maxClipNorm must be positive, got ${maxClipNorm}`);
  if (mode === 'ckks' && !policy.roster) {
    throw new Error('security.mode ckks needs security.roster (the study\'s participants and their identity keys): without it the coordinator decides who receives the CKKS key');
  }
  if (mode === 'ckks') {
    const { protocol, hostname } = new URL(url);
    if (protocol === 'http:' && !isLoopbackHost(hostname) && !policy.acceptRisks?.includes('plain-http')) {
      throw new Error(
        `security.mode ckks over plain http to ${hostname}: downloads and metadata travel unencrypted on the network; use an https:// coordinator, or accept it with security.acceptRisks: [plain-http]`,
      );
    }
  }
  return {
    ...(mode ? { mode } : {}),
    ...(minNoiseMultiplier !== undefined ? { minNoiseMultiplier } : {}),
    ...(maxClipNorm !== undefined ? { maxClipNorm } : {}),
    featureStatistics: policy.featureStatistics ?? mode !== 'ckks',
    ...(policy.roster ? { roster: new Roster(policy.roster) } : {}),
  };
}
