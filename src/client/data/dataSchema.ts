import type { DataSchema } from '../../protocol/dataSchema.js';
import type { CsvDataConfig } from './csvDataConfig.js';
import type { FeaturePlan } from './featurePlan.js';

/**
 * The schema a site announces for its loaded CSV: feature columns in the order they enter the model (numeric,
 * then each categorical block), their levels, and the label with its transform. All of it comes from the
 * header and the config, none from cell values.
 */
export function dataSchemaOf(plan: FeaturePlan, config: CsvDataConfig): DataSchema {
  return {
    features: [
      ...plan.numeric.map((f) => ({ name: f.name, type: 'numeric' as const })),
      ...plan.categorical.map((f) => ({ name: f.name, type: 'categorical' as const, levels: [...f.encoding.levels], dropFirst: f.encoding.dropFirst })),
    ],
    label: { name: config.label, ...(config.labelTransform ? { transform: config.labelTransform } : {}) },
  };
}
