import { stringify } from 'yaml';
import { z } from 'zod';
import { categoricalEncodingSchema, labelTransformSchema } from '../../client/data/csvDataConfig.js';
import type { DataSchema, FeatureColumn } from '../../protocol/dataSchema.js';

/**
 * The study's data schema as an experiment pins it, in the data config's own words: a feature is a column name
 * (numeric) or `{ name, levels, dropFirst? }` (one-hot), the label a name or `{ name, labelTransform }`.
 * Categorical columns enter the model after the numeric ones whatever the order written (as every site encodes).
 */
export const dataSchemaConfigSchema = z
  .strictObject({
    features: z
      .array(z.union([z.string().min(1), z.strictObject({ name: z.string().min(1) }).extend(categoricalEncodingSchema.shape)]))
      .min(1, 'list the feature columns'),
    label: z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), labelTransform: labelTransformSchema.optional() })]),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.features.forEach((f, i) => {
      const name = typeof f === 'string' ? f : f.name;
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['features', i], message: `column "${name}" is listed twice` });
      seen.add(name);
    });
  })
  .transform((s): DataSchema => {
    const columns: FeatureColumn[] = s.features.map((f) =>
      typeof f === 'string' ? { name: f, type: 'numeric' } : { name: f.name, type: 'categorical', levels: f.levels, dropFirst: f.dropFirst },
    );
    const label = typeof s.label === 'string' ? { name: s.label } : { name: s.label.name, ...(s.label.labelTransform ? { transform: s.label.labelTransform } : {}) };
    return { features: [...columns.filter((c) => c.type === 'numeric'), ...columns.filter((c) => c.type === 'categorical')], label };
  });

/** The YAML that pins `schema` in an experiment (`dataSchema:` and its value), to paste into the config. */
export function dataSchemaYaml(schema: DataSchema): string {
  const features = schema.features.map((f) => (f.type === 'numeric' ? f.name : { name: f.name, levels: f.levels, ...(f.dropFirst ? { dropFirst: true } : {}) }));
  const label = schema.label.transform ? { name: schema.label.name, labelTransform: schema.label.transform } : schema.label.name;
  const flow = (value: unknown) => stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  return `dataSchema:\n  features: ${flow(features)}\n  label: ${flow(label)}`;
}
