import { isLoopbackHost } from '../../protocol/loopback.js';
import { Roster, type RosterEntry } from './roster.js';

export { isLoopbackHost };

/** Risks an operator may accept explicitly; each is refused otherwise when secure aggregation is required. */
export type AcceptedRisk = 'plain-http';

/** The modes a node can require. */
export type SecureModeRequirement = 'plain' | 'ckks' | 'secaggplus';

/**
 * What a hospital's node accepts, from its own config: the coordinator's word never widens it. A task outside
 * it is refused (the coordinator is told why) and written to the node's audit log.
 */
export interface ClientSecurityPolicy {
  /**
   * The secure-aggregation mode this node requires: a fit task in another mode, a plaintext one included, is
   * refused. Under secaggplus the global model is plaintext (the coordinator holds the mean), so evaluate tasks
   * download it in the clear.
   */
  readonly mode?: SecureModeRequirement;
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
  /** The study's participants: CKKS dealers, key-box recipients and SecAgg+ members must be on it. Required with mode ckks or secaggplus. */
  readonly roster?: readonly RosterEntry[];
  /** Risks this site accepts that would otherwise be refused (`plain-http`: secure aggregation without TLS to a non-loopback coordinator). */
  readonly acceptRisks?: readonly AcceptedRisk[];
  /** SHA-256 (hex) of the model.json this node accepts to train, when the experiment's model is a file: another is refused. */
  readonly modelSha256?: string;
  /** This node's own floors on the SecAgg+ rounds it joins (the coordinator chooses k and t; these bound its choice). */
  readonly secaggplus?: SecAggPlusFloors;
}

/**
 * The least protection a node accepts from a SecAgg+ round: a round below a floor is refused at the key exchange
 * (or, for the cohort, also at the survivor set), before any share or masked update leaves.
 */
export interface SecAggPlusFloors {
  /** t: at least this many of a client's neighbours must collude with the coordinator to rebuild its secrets. */
  readonly minThreshold?: number;
  /** k: this node's update is masked with at least this many neighbours (the graph's degree in the round). */
  readonly minNeighbours?: number;
  /** The round has at least this many members, and the sum the coordinator unmasks covers at least this many updates. */
  readonly minCohort?: number;
  /** b: the ring Z_(2^b) this node's update is quantized into has at least this many bits (a coarser one rounds it more). */
  readonly minBits?: number;
}

/** The policy checked and ready to apply. */
export interface ResolvedSecurityPolicy {
  readonly mode?: SecureModeRequirement;
  readonly minNoiseMultiplier?: number;
  readonly maxClipNorm?: number;
  readonly featureStatistics: boolean;
  readonly roster?: Roster;
  readonly secaggplus?: SecAggPlusFloors;
}

function checkFloors(floors: SecAggPlusFloors): void {
  for (const [name, value, least] of [['minThreshold', floors.minThreshold, 2], ['minNeighbours', floors.minNeighbours, 2], ['minCohort', floors.minCohort, 3]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= least)) throw new Error(`security.secaggplus.${name} must be an integer of at least ${least}, got ${value}`);
  }
  const { minBits } = floors;
  if (minBits !== undefined && !(Number.isInteger(minBits) && minBits >= 8 && minBits <= 32)) throw new Error(`security.secaggplus.minBits must be an integer from 8 to 32, got ${minBits}`);
}

/** Checks a policy before any connection is made; throws naming the setting to fix. */
export function resolveSecurityPolicy(policy: ClientSecurityPolicy | undefined, url: string): ResolvedSecurityPolicy {
  if (!policy) return { featureStatistics: true };
  const { mode, minNoiseMultiplier, maxClipNorm } = policy;
  if (minNoiseMultiplier !== undefined && !(minNoiseMultiplier >= 0 && Number.isFinite(minNoiseMultiplier))) {
    throw new Error(`security.minNoiseMultiplier must be a finite number >= 0, got ${minNoiseMultiplier}`);
  }
  if (maxClipNorm !== undefined && !(maxClipNorm > 0 && Number.isFinite(maxClipNorm))) throw new Error(`security.maxClipNorm must be positive, got ${maxClipNorm}`);
  if (policy.secaggplus) checkFloors(policy.secaggplus);
  if (mode === 'ckks' && !policy.roster) {
    throw new Error('security.mode ckks needs security.roster (the study\'s participants and their identity keys): without it the coordinator decides who receives the CKKS key');
  }
  if (mode === 'secaggplus' && !policy.roster) {
    throw new Error('security.mode secaggplus needs security.roster (the study\'s participants and their identity keys): without it the coordinator could fill a round with clients of its own');
  }
  if (mode === 'ckks' || mode === 'secaggplus') {
    const { protocol, hostname } = new URL(url);
    if (protocol === 'http:' && !isLoopbackHost(hostname) && !policy.acceptRisks?.includes('plain-http')) {
      throw new Error(
        `security.mode ${mode} over plain http to ${hostname}: downloads and metadata travel unencrypted on the network; use an https:// coordinator, or accept it with security.acceptRisks: [plain-http]`,
      );
    }
  }
  return {
    ...(mode ? { mode } : {}),
    ...(minNoiseMultiplier !== undefined ? { minNoiseMultiplier } : {}),
    ...(maxClipNorm !== undefined ? { maxClipNorm } : {}),
    featureStatistics: policy.featureStatistics ?? (mode !== 'ckks' && mode !== 'secaggplus'),
    ...(policy.roster ? { roster: new Roster(policy.roster) } : {}),
    ...(policy.secaggplus ? { secaggplus: { ...policy.secaggplus } } : {}),
  };
}
