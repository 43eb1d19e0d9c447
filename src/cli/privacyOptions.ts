import type { CoordinatorOptions } from '../coordinator/coordinator.js';
import type { PrivacyBudget } from '../coordinator/observability/index.js';
import type { RoundRecord } from '../coordinator/roundRecord.js';
import type { ExperimentConfig } from './config/experimentConfig.js';

/** The coordinator's privacy accounting and the dashboard's privacy card, from an experiment's `privacy`. */
export function privacyOptions(config: ExperimentConfig): {
  coordinator: Pick<CoordinatorOptions, 'privacy'>;
  observe: (record: RoundRecord) => void;
  budget: () => PrivacyBudget;
} {
  const p = config.privacy;
  let spent = 0;
  if (!p) return { coordinator: {}, observe: () => undefined, budget: () => ({ configured: false }) };
  return {
    coordinator: {
      // The coordinator sets up clipping and noise from this one option, as the mode needs (plain: a DP
      // aggregator around the strategy's; ckks: each client clips and adds its share of the noise).
      privacy: { clipNorm: p.clipNorm, noiseMultiplier: p.noiseMultiplier, delta: p.delta, conversion: p.conversion, colluders: p.colluders, ...(p.targetEpsilon !== undefined ? { targetEpsilon: p.targetEpsilon } : {}) },
    },
    observe: (record) => {
      if (record.privacy) spent = record.privacy.epsilon;
    },
    budget: () => ({
      configured: true,
      epsilon: spent,
      delta: p.delta,
      ...(p.targetEpsilon !== undefined ? { targetEpsilon: p.targetEpsilon } : {}),
      mechanism: `client-level DP-FedAvg: clip ${typeof p.clipNorm === 'number' ? p.clipNorm : `adaptive (quantile ${p.clipNorm.targetQuantile}, from ${p.clipNorm.initialClipNorm})`}, noise multiplier ${p.noiseMultiplier} (RDP, ${p.conversion} conversion)`,
    }),
  };
}
