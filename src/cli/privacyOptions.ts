import type { CoordinatorOptions } from '../coordinator/coordinator.js';
import type { PrivacyBudget } from '../coordinator/observability/index.js';
import type { RoundRecord } from '../coordinator/roundRecord.js';
import type { ExperimentConfig } from './config/experimentConfig.js';

/** The coordinator's privacy accounting and the dashboard's privacy card, from an experiment's `privacy`. */
export function privacyOptions(config: ExperimentConfig): {
  coordinator: Pick<CoordinatorOptions, 'privacy' | 'privacyClipNorm'>;
  observe: (record: RoundRecord) => void;
  budget: () => PrivacyBudget;
} {
  const p = config.privacy;
  let spent = 0;
  if (!p) return { coordinator: {}, observe: () => undefined, budget: () => ({ configured: false }) };
  return {
    coordinator: {
      privacy: { noiseMultiplier: p.noiseMultiplier, delta: p.delta, conversion: p.conversion, ...(p.targetEpsilon !== undefined ? { targetEpsilon: p.targetEpsilon } : {}) },
      // Under CKKS each client clips and adds its share of the noise; the coordinator tells them how.
      ...(config.secureAggregation === 'ckks' ? { privacyClipNorm: p.clipNorm } : {}),
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
