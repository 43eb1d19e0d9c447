import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { publicScalingSchema } from '../../client/data/publicScaling.js';
import { dataSchemaSchema } from '../../protocol/dataSchema.js';

export const PREPROCESSING_FILE = 'preprocessing.json';

/**
 * What an exported model needs besides its weights to predict on raw rows, written beside model.json: the data
 * schema (feature columns in the model's input order, categorical levels, the label and its transform), how
 * features were scaled, and which run produced it.
 */
export const preprocessingSchema = z.strictObject({
  format: z.literal('cohort-fl-preprocessing'),
  version: z.literal(1),
  run: z.string(),
  round: z.number().int(),
  /** SHA-256 of the exported weights as the run recorded them (before folding). */
  modelSha256: z.string(),
  /** SHA-256 of the run's manifest (canonical JSON) and of its experiment config; absent in a client's own copy. */
  manifestSha256: z.string().optional(),
  configHash: z.string().optional(),
  /** Absent when no site announced a schema (custom trainers): such a model cannot be fed raw rows. */
  schema: dataSchemaSchema.optional(),
  /** The model's input columns after one-hot encoding (`<column>_<level>`), in order. */
  featureNames: z.array(z.string()).optional(),
  /**
   * `folded`: the federation's z-score is inside the first layer, so raw values go in; `none`: features were never
   * scaled; `per-site`: each site scaled with its own statistics (standardization: local), no one preprocessing;
   * `public`: features were scaled from public ranges (clipped, so not foldable), applied to raw rows by predict.
   */
  standardization: z.enum(['folded', 'none', 'per-site', 'public']),
  /** With standardization: public, the ranges the run scaled with. */
  publicScaling: publicScalingSchema.optional(),
  /** Whose statistics were folded: the federation's, or (a client's own copy under local standardization) this site's. */
  foldedStatistics: z.enum(['federation', 'this-site']).optional(),
  /** The federation's mean and std per input column, for reference (already folded into the weights). */
  featureMean: z.array(z.number()).optional(),
  featureStd: z.array(z.number()).optional(),
  /** 1: a sigmoid, P(label = 1); k > 1: a softmax over the label values 0..k-1. */
  outputs: z.number().int().min(1),
});
export type Preprocessing = z.infer<typeof preprocessingSchema>;

export function writePreprocessing(dir: string, preprocessing: Preprocessing): void {
  writeFileSync(join(dir, PREPROCESSING_FILE), `${JSON.stringify(preprocessing, null, 2)}\n`);
}

export function readPreprocessing(dir: string): Preprocessing {
  const file = join(dir, PREPROCESSING_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} not found: --model must be a folder written by \`cohort export\` (model.json, weights.bin and ${PREPROCESSING_FILE})`);
  }
  const parsed = preprocessingSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a Cohort preprocessing file:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
