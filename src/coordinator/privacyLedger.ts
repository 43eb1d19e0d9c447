import { RdpAccountant } from '../privacy/rdpAccountant.js';
import type { RdpConversion } from '../privacy/rdpConversion.js';
import type { RoundRecord } from './roundRecord.js';

export interface PrivacySettings {
  readonly noiseMultiplier: number;
  readonly delta: number;
  readonly targetEpsilon?: number;
  readonly conversion?: RdpConversion;
  /**
   * Who adds the noise: `central`, the coordinator, whole, whatever the number of updates (plain mode's DpMean);
   * `distributed`, each selected client its share of std zC / sqrt(m) (secure modes), so a round in which only m'
   * of the m selected report carries multiplier z sqrt(m' / m). Default `central`.
   */
  readonly noise?: 'central' | 'distributed';
  /**
   * Under distributed noise: how many participants the guarantee must hold against who know their own noise
   * shares (each can subtract its own from the sum it decrypts). Default 1, any one curious client: the noise of
   * m' shares is then z sqrt((m' - 1) / m) against it. Ignored under central noise, which no client knows.
   */
  readonly colluders?: number;
}

/**
 * The sampling rate the accountant is charged with. Cohorts are drawn by the strategy from the experiment's seed,
 * which the config, the store, the audit log and the dashboard all publish: anyone can recompute who sat in each
 * round, so there is no amplification by sampling to claim. A client in the cohort is charged a whole Gaussian
 * mechanism (q = 1) and one outside it nothing; charging q = 1 every round bounds every client's epsilon, and equals
 * the epsilon of a client selected every round. (Poisson selection from a CSPRNG, kept from whoever the guarantee
 * is against, would earn q: not built yet.)
 */
export const PUBLIC_COHORT_SAMPLE_RATE = 1;

/**
 * The adjacency of client-level DP, in every mode: replace-one (one client's update replaced by any other). The
 * aggregate divides by the actual contributor count (DpMean's mean; under CKKS the weights' total), which releases
 * that count, so add/remove-one adjacency (whose neighbours differ in the count) is not meaningful; under
 * replace-one the count is the same in both neighbours and dividing by it is post-processing. The clipped sum's L2
 * sensitivity is then 2C, not C: noise of std zC (plain mode's DpMean, or distributed shares adding up to zC) is a
 * Gaussian mechanism with multiplier z / 2 relative to that sensitivity, which is what the accountant is charged.
 * (Adaptive clipping's noised count: replacing one client moves the count of unclipped updates by at most 1, twice
 * the 1/2 of Andrew et al.'s Theorem 1, so the pair still composes to exactly z / 2.) With q = 1 (public cohorts)
 * this is the Gaussian mechanism's exact RDP, alpha (2C)^2 / (2 (zC)^2). Record-level DP-SGD (fixed denominator,
 * Poisson batches) and local DP (a client's own release) are add/remove, accounted by the client, and not here.
 */
export const CLIENT_ADJACENCY = 'replace-one' as const;

/** How many times C the clipped sum can move between neighbours under CLIENT_ADJACENCY. */
export const REPLACE_ONE_SENSITIVITY = 2;

/** The multiplier the accountant is charged with for noise of std `noiseMultiplier` x C (see CLIENT_ADJACENCY). */
export function chargedMultiplier(noiseMultiplier: number): number {
  return noiseMultiplier / REPLACE_ONE_SENSITIVITY;
}

/** The cohort a round was configured with, for the budget check's worst case. */
export interface RoundCohort {
  /** m: the clients selected. */
  readonly selected: number;
  /** The fewest updates with which the round still counts (the strategy's minFitClients). */
  readonly minimum: number;
}

/**
 * The run's client-level privacy ledger: an RDP accountant charged once per aggregated round (a failed
 * attempt releases nothing and costs nothing), and the budget check made before a round starts, against the
 * round's worst case.
 */
export class PrivacyLedger {
  constructor(
    private readonly settings: PrivacySettings,
    private accountant: RdpAccountant = new RdpAccountant(),
  ) {}

  /** Restores the ledger from a checkpoint's `privacy` value, or starts a fresh one. */
  static resume(settings: PrivacySettings, saved: unknown): PrivacyLedger {
    return new PrivacyLedger(settings, saved === undefined ? new RdpAccountant() : RdpAccountant.fromState(saved));
  }

  get state(): unknown {
    return this.accountant.state;
  }

  /**
   * The noise multiplier round's worst case leaves: under distributed noise, the round can end with as few as
   * `minimum` of the `selected` clients' shares (clients drop out, by accident or on purpose), z sqrt(minimum / m);
   * central noise is whole whatever arrives.
   */
  worstCaseMultiplier(cohort: RoundCohort | undefined): number {
    const z = this.settings.noiseMultiplier;
    if (this.settings.noise !== 'distributed' || !cohort || cohort.selected <= 0) return z;
    return this.sharesMultiplier(Math.max(1, Math.min(cohort.minimum, cohort.selected)), cohort.selected);
  }

  /**
   * What `present` of `selected` distributed noise shares leave against the tolerated colluders, who know their
   * own: z sqrt((present - colluders) / selected) (0 when they know them all; a run is refused at start unless
   * minFitClients exceeds the colluders, so a counted round never gets there).
   */
  sharesMultiplier(present: number, selected: number): number {
    const unknown = Math.max(0, present - (this.settings.colluders ?? 1));
    return this.settings.noiseMultiplier * Math.sqrt(unknown / selected);
  }

  /**
   * Why round `round` must not run, or undefined: a round runs only if even its worst case (the lowest noise it
   * can end with, see worstCaseMultiplier) keeps epsilon within the target, so no dropout can take the run past it.
   */
  refuse(round: number, sampleRate: number, cohort?: RoundCohort): { message: string; epsilon: number } | undefined {
    const { targetEpsilon, delta, noiseMultiplier, conversion } = this.settings;
    if (targetEpsilon === undefined) return undefined;
    const worst = this.worstCaseMultiplier(cohort);
    const q = chargedRate(sampleRate);
    const check = this.accountant.wouldExceed({ epsilon: targetEpsilon, delta, ...(conversion ? { conversion } : {}) }, q, chargedMultiplier(worst));
    if (!check.exceeds) return undefined;
    const how =
      worst < noiseMultiplier && cohort
        ? ` in its worst case (${Math.min(cohort.minimum, cohort.selected)} of the ${cohort.selected} selected clients' noise shares arriving, ${this.settings.colluders ?? 1} of them known to a colluder: noise multiplier ${worst.toPrecision(4)})`
        : '';
    const charged = `noise multiplier ${worst.toPrecision(4)} charged as ${chargedMultiplier(worst).toPrecision(4)}: replace-one adjacency, sensitivity 2C`;
    return {
      message: `privacy budget: round ${round} would bring epsilon to ${check.epsilon.toFixed(4)}${how}, past the target ${targetEpsilon} (delta ${delta}; ${charged}); stopped after round ${round - 1}`,
      epsilon: check.epsilon,
    };
  }

  /**
   * Charges one aggregated round (`sampleRate` is the cohort's share of the eligible clients, which a public cohort
   * does not earn: see PUBLIC_COHORT_SAMPLE_RATE); returns what the round record shows. Under distributed noise,
   * `shares` says how many of the selected clients' noise shares are present; the multiplier charged is what they
   * leave against the tolerated colluders (sharesMultiplier). The
   * accountant is charged with half the multiplier present (replace-one adjacency: see CLIENT_ADJACENCY).
   */
  charge(sampleRate: number, measured: { readonly clipped?: number; readonly clipNorm?: number }, shares?: { readonly present: number; readonly selected: number }): NonNullable<RoundRecord['privacy']> {
    const { delta, conversion } = this.settings;
    const noiseMultiplier = this.settings.noise === 'distributed' && shares ? this.sharesMultiplier(shares.present, shares.selected) : this.settings.noiseMultiplier;
    if (!(noiseMultiplier > 0)) throw new RangeError(`the ${shares?.present} noise shares present are all known to the ${this.settings.colluders ?? 1} tolerated colluder(s): nothing to account`);
    const q = chargedRate(sampleRate);
    const charged = chargedMultiplier(noiseMultiplier);
    this.accountant = this.accountant.step(q, charged);
    const spent = this.accountant.epsilon(delta, conversion);
    return {
      epsilon: spent.epsilon,
      delta,
      noiseMultiplier,
      adjacency: CLIENT_ADJACENCY,
      chargedMultiplier: charged,
      sampleRate: q,
      cohortFraction: sampleRate,
      sampling: 'public-cohort',
      ...(measured.clipped !== undefined ? { clipped: measured.clipped } : {}),
      ...(measured.clipNorm !== undefined ? { clipNorm: measured.clipNorm } : {}),
    };
  }
}

/** The rate the accountant is charged for a cohort that was `fraction` of the eligible clients (see PUBLIC_COHORT_SAMPLE_RATE). */
function chargedRate(fraction: number): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`the cohort's share of the clients must be in [0, 1], got ${fraction}`);
  // Replace-one is charged as the Gaussian mechanism at z / 2, exact without sampling; a q < 1 would need the
  // subsampled Gaussian's bound under substitution, which the accountant (add/remove, Poisson) does not compute.
  return PUBLIC_COHORT_SAMPLE_RATE;
}
