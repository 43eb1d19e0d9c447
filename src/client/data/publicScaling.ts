import { z } from 'zod';
import { DataError } from './errors.js';
import { featureCount, type TabularData, type TrainTest } from './tabular.js';

/**
 * One feature's scale from public knowledge (the study protocol, clinical reference ranges, the codebook), never
 * from any site's rows: a range [min, max], mapped onto [-1, 1], or a mean and a scale, mapped to (x - mean) / scale.
 */
export const publicFeatureScaleSchema = z.union([
  z.strictObject({ min: z.number(), max: z.number() }).refine((r) => r.max > r.min, { message: 'max must be greater than min' }),
  z.strictObject({ mean: z.number(), scale: z.number().positive('scale must be positive') }),
]);

/**
 * Feature scaling from public ranges: no statistic of any site's data is computed or sent, so it holds under
 * differential privacy (federated standardization sends each site's exact moments). Every feature needs an entry.
 * A value outside its range is clipped to it and counted (`clip`, the default: clipping each record on its own is
 * the same for neighbouring datasets, so it costs no privacy, and a run does not stop over one out-of-range lab
 * value), or refused (`refuse`: the load fails naming the feature, the row and the range, for studies that treat
 * such a value as a data error).
 */
export const publicScalingSchema = z.strictObject({
  features: z.record(z.string().min(1), publicFeatureScaleSchema),
  outOfRange: z.enum(['clip', 'refuse']).default('clip'),
});

/** One feature's public scale, known without looking at any site's data: a range (min, max) or a mean and scale. */
export type PublicFeatureScale = z.output<typeof publicFeatureScaleSchema>;
export type PublicScaling = z.output<typeof publicScalingSchema>;
/** Public scales for the features, as the experiment's `publicScaling` gives them. */
export type PublicScalingInput = z.input<typeof publicScalingSchema>;

/** What the scaling did to one client's rows; it stays at the client (never sent). */
export interface PublicScalingReport {
  /** Values clipped into their range, by feature (features with none are left out). */
  readonly clipped: Readonly<Record<string, number>>;
}

interface ResolvedScale {
  readonly centre: number;
  readonly scale: number;
  readonly min: number;
  readonly max: number;
}

/** Each feature's centre and scale, in the table's column order; throws naming every feature without an entry. */
function resolveScales(featureNames: readonly string[], scaling: PublicScaling): ResolvedScale[] {
  const missing = featureNames.filter((f) => !Object.hasOwn(scaling.features, f));
  if (missing.length > 0) {
    throw new DataError(
      `publicScaling.features has no public range for ${missing.join(', ')}: give each feature { min, max } or { mean, scale } from public sources (the study protocol, reference ranges), never from a site's rows`,
    );
  }
  const unknown = Object.keys(scaling.features).filter((f) => !featureNames.includes(f));
  if (unknown.length > 0) {
    throw new DataError(`publicScaling.features names ${unknown.join(', ')}, which the data does not have (its features: ${featureNames.join(', ')})`);
  }
  return featureNames.map((f) => {
    const s = scaling.features[f]!;
    return 'min' in s
      ? { centre: (s.min + s.max) / 2, scale: (s.max - s.min) / 2, min: s.min, max: s.max }
      : { centre: s.mean, scale: s.scale, min: -Infinity, max: Infinity };
  });
}

function scaleTable(data: TabularData, scales: readonly ResolvedScale[], outOfRange: PublicScaling['outOfRange'], part: string, clipped: Map<string, number>): TabularData {
  const width = featureCount(data);
  const x = new Float32Array(data.x.length);
  for (let r = 0; r < data.rows; r++) {
    for (let j = 0; j < width; j++) {
      const s = scales[j]!;
      let v = data.x[r * width + j]!;
      if (v < s.min || v > s.max) {
        const name = data.featureNames[j]!;
        if (outOfRange === 'refuse') {
          throw new DataError(
            `${name} = ${v} (${part} row ${r + 1}) is outside its public range [${s.min}, ${s.max}]: widen the range in publicScaling.features, fix the value, or set publicScaling.outOfRange: clip`,
          );
        }
        clipped.set(name, (clipped.get(name) ?? 0) + 1);
        v = Math.min(s.max, Math.max(s.min, v));
      }
      x[r * width + j] = (v - s.centre) / s.scale;
    }
  }
  return { x, y: new Float32Array(data.y), rows: data.rows, featureNames: data.featureNames };
}

/**
 * Scales a client's training and test rows from public ranges (see publicScalingSchema); returns new tables and
 * how many values were clipped. Throws a DataError naming every feature without a range, names that are not
 * features, and (with outOfRange: refuse) the first value outside its range.
 */
export function applyPublicScaling(data: TrainTest, scaling: PublicScalingInput): TrainTest & { readonly report: PublicScalingReport } {
  const parsed = publicScalingSchema.safeParse(scaling);
  if (!parsed.success) throw new DataError(`invalid publicScaling:\n${z.prettifyError(parsed.error)}`);
  const scales = resolveScales(data.train.featureNames, parsed.data);
  const clipped = new Map<string, number>();
  const train = scaleTable(data.train, scales, parsed.data.outOfRange, 'training', clipped);
  const test = scaleTable(data.test, scales, parsed.data.outOfRange, 'test', clipped);
  return { train, test, report: { clipped: Object.fromEntries(clipped) } };
}

/** "chol 3, trestbps 1" or undefined when nothing was clipped: for a client's own log. */
export function describeClipped(report: PublicScalingReport): string | undefined {
  const entries = Object.entries(report.clipped);
  return entries.length === 0 ? undefined : entries.map(([f, n]) => `${f} ${n}`).join(', ');
}
