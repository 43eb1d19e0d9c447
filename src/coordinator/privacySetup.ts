import type { ModeDefinition } from '../modes/mode.js';
import type { AdaptiveClipping } from '../privacy/adaptiveClipping.js';
import { withClipNorm } from './aggregation/clipNormStrategy.js';
import { DpMean } from './aggregation/dpMean.js';
import { RunError, type CoordinatorOptions, type PrivacyOptions } from './coordinatorOptions.js';
import type { PrivacySettings } from './privacyLedger.js';
import type { Strategy } from './strategy.js';

/** What a run's client-level DP comes to once set up for its mode: the strategy to run and the ledger's settings. */
export interface PrivacySetup {
  readonly strategy: Strategy;
  readonly privacy?: PrivacyOptions;
  /** What the run's privacy ledger is built from: the settings and who adds the noise. */
  readonly ledger?: PrivacySettings;
}

/**
 * Client-level DP-FedAvg from one option, `privacy: { clipNorm, noiseMultiplier, delta, targetEpsilon? }`, as Flower's
 * DifferentialPrivacyServerSideFixedClipping wraps a strategy in one call: clipping, noise and the ledger set up
 * together, so that they cannot disagree.
 *  - plain (a mode where the coordinator sees each update): the strategy's aggregation is wrapped in DpMean (each update clipped to C, the sum noised at z), and its
 *    fit tasks carry C so clients clip before anything leaves their site (withClipNorm).
 *  - ckks (a mode that hides each update): clients clip to C and add their noise shares (the mode takes C from here).
 * Without `clipNorm`, a plain-mode run must already aggregate with a DP aggregator adding noise at the same z,
 * otherwise it is refused: an epsilon is never printed for a run that adds no noise. Nothing else about a site's data
 * may leave outside the mechanism: federated standardization (exact per-site moments) is refused unless accepted.
 */
export function setUpPrivacy(options: CoordinatorOptions, mode: Pick<ModeDefinition, 'protectsUpdates'>): PrivacySetup {
  const { strategy, privacy } = options;
  if (!privacy) {
    if (options.privacyClipNorm !== undefined) throw new RunError('privacyClipNorm is set without privacy: give privacy: { clipNorm, noiseMultiplier, delta } instead');
    return { strategy };
  }
  if (!(privacy.noiseMultiplier > 0 && Number.isFinite(privacy.noiseMultiplier))) {
    throw new RunError(`privacy.noiseMultiplier must be positive and finite (without noise there is no privacy to account), got ${privacy.noiseMultiplier}`);
  }
  if (options.standardizeFeatures !== undefined && !options.acceptRisks?.includes('feature-moments')) {
    throw new RunError(
      "federated standardization sends each client's exact feature means, mean squares and row count to the coordinator in the clear, outside the differential-privacy guarantee " +
        "(differencing two runs recovers one patient's features): with privacy, scale features from public ranges (standardization: public with publicScaling; in code, applyPublicScaling at each client), " +
        'standardize locally or not at all (standardization: local or none), leaving standardizeFeatures unset, ' +
        "or accept the leak with acceptRisks: ['feature-moments']",
    );
  }
  const clipNorm = agreedClipNorm(privacy.clipNorm, options.privacyClipNorm);
  const settings: PrivacyOptions = { ...privacy, ...(clipNorm !== undefined ? { clipNorm } : {}) };
  // A mode that hides each update from the coordinator (ckks) has its clients clip and add the noise in shares
  // (the mode refuses a missing C); the coordinator can neither clip nor noise what it cannot see.
  if (mode.protectsUpdates) {
    // Each client knows its own noise share: against `colluders` of them, a round needs more shares than they know.
    const colluders = privacy.colluders ?? 1;
    if (!(Number.isInteger(colluders) && colluders >= 0)) throw new RunError(`privacy.colluders must be a whole number >= 0, got ${colluders}`);
    if (strategy.minFitClients <= colluders) {
      throw new RunError(
        `distributed DP with minFitClients ${strategy.minFitClients} against ${colluders} colluding client(s), who know their own noise shares: a round could count with no noise unknown to them; raise minFitClients above ${colluders}`,
      );
    }
    return { strategy, privacy: settings, ledger: { ...privacy, noise: 'distributed', colluders } };
  }
  const ledger: PrivacySettings = { ...privacy, noise: 'central' };
  const declared = strategy.createAggregator().dpNoise;
  const z = privacy.noiseMultiplier;
  if (clipNorm === undefined) {
    if (!declared) {
      throw new RunError(
        `privacy (noise multiplier ${z}) is set, but strategy ${strategy.name}'s aggregator adds no noise, so the epsilon it would print is false: ` +
          'give privacy.clipNorm (the coordinator then clips every update to it and adds the noise), or aggregate with DpMean at the same noise multiplier',
      );
    }
    if (declared.noiseMultiplier !== z) {
      throw new RunError(`privacy.noiseMultiplier is ${z}, but strategy ${strategy.name}'s aggregator adds noise at ${declared.noiseMultiplier}: the ledger would charge another mechanism than the one run; make them equal`);
    }
    return { strategy, privacy: settings, ledger };
  }
  if (declared) {
    throw new RunError(`privacy.clipNorm sets up the DP aggregator, but strategy ${strategy.name} already aggregates with one (noise multiplier ${declared.noiseMultiplier}): drop its DpMean, or privacy.clipNorm`);
  }
  if (strategy.capabilities.needs === 'each-update' || strategy.capabilities.payload) {
    throw new RunError(`strategy ${strategy.name} needs every individual update (or uploads more than a model delta) and cannot be combined with privacy (client-level DP-FedAvg)`);
  }
  const dp = new DpMean(strategy.createAggregator(), { clipNorm, noiseMultiplier: z });
  return { strategy: withClipNorm(strategy, dp), privacy: settings, ledger };
}

/** privacy.clipNorm, or the older privacyClipNorm; both only when they are the same. */
function agreedClipNorm(inPrivacy: number | AdaptiveClipping | undefined, separate: number | AdaptiveClipping | undefined): number | AdaptiveClipping | undefined {
  if (inPrivacy === undefined) return separate;
  if (separate !== undefined && JSON.stringify(separate) !== JSON.stringify(inPrivacy)) {
    throw new RunError('privacy.clipNorm and privacyClipNorm disagree: give privacy.clipNorm only');
  }
  return inPrivacy;
}
