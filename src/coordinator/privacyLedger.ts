import { RdpAccountant } from '../privacy/rdpAccountant.js';
import type { RdpConversion } from '../privacy/rdpConversion.js';
import type { RoundRecord } from './roundRecord.js';

export interface PrivacySettings {
  readonly noiseMultiplier: number;
  readonly delta: number;
  readonly targetEpsilon?: number;
  readonly conversion?: RdpConversion;
}

/**
 * The run's client-level privacy ledger: an RDP accountant charged once per aggregated round (a failed
 * attempt releases nothing and costs nothing), and the budget check made before a round starts.
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

  /** Why round `round` must not run (it would pass the budget), or undefined. */
  refuse(round: number, sampleRate: number): { message: string; epsilon: number } | undefined {
    const { targetEpsilon, delta, noiseMultiplier, conversion } = this.settings;
    if (targetEpsilon === undefined) return undefined;
    const check = this.accountant.wouldExceed({ epsilon: targetEpsilon, delta, ...(conversion ? { conversion } : {}) }, sampleRate, noiseMultiplier);
    if (!check.exceeds) return undefined;
    return {
      message: `privacy budget: round ${round} would bring epsilon to ${check.epsilon.toFixed(4)}, past the target ${targetEpsilon} (delta ${delta}); stopped after round ${round - 1}`,
      epsilon: check.epsilon,
    };
  }

  /**
   * Charges one aggregated round at `sampleRate`; returns what the round record shows. `noiseFactor` < 1
   * scales the noise multiplier down when part of a distributed noise went missing with dropped clients.
   */
  charge(sampleRate: number, measured: { readonly clipped?: number; readonly clipNorm?: number }, noiseFactor = 1): NonNullable<RoundRecord['privacy']> {
    const { delta, conversion } = this.settings;
    const noiseMultiplier = this.settings.noiseMultiplier * noiseFactor;
    this.accountant = this.accountant.step(sampleRate, noiseMultiplier);
    const spent = this.accountant.epsilon(delta, conversion);
    return {
      epsilon: spent.epsilon,
      delta,
      noiseMultiplier,
      sampleRate,
      ...(measured.clipped !== undefined ? { clipped: measured.clipped } : {}),
      ...(measured.clipNorm !== undefined ? { clipNorm: measured.clipNorm } : {}),
    };
  }
}
