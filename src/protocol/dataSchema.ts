import { z } from 'zod';

/**
 * A site's data schema as it announces it at hello: the feature columns in the order they enter the model, their
 * types and categorical levels, and the label with how its cells become numbers. Names and levels are the study's
 * schema, fixed in configuration; nothing here is computed from a value of the site's data.
 */

const columnName = z.string().min(1).max(256);
const level = z.union([z.string().max(256), z.number().finite()]);

export const featureColumnSchema = z.discriminatedUnion('type', [
  z.strictObject({ name: columnName, type: z.literal('numeric') }),
  z.strictObject({ name: columnName, type: z.literal('categorical'), levels: z.array(level).min(1).max(1_000), dropFirst: z.boolean() }),
]);

export const labelColumnSchema = z.strictObject({
  name: columnName,
  /** How label cells become numbers, as the data config says (`labelTransform`); absent: already numeric. */
  transform: z
    .union([
      z.strictObject({ binarize: z.strictObject({ above: z.number().finite() }) }),
      z.strictObject({ map: z.record(z.string().max(256), z.number().finite()).refine((m) => Object.keys(m).length <= 1_000, 'at most 1000 entries') }),
    ])
    .optional(),
});

export const dataSchemaSchema = z.strictObject({
  /** In the order of the model's input: numeric columns first, then each categorical column's one-hot block. */
  features: z.array(featureColumnSchema).min(1).max(10_000),
  label: labelColumnSchema,
});

/** One feature column: numeric, or categorical with its levels and one-hot encoding. */
export type FeatureColumn = z.infer<typeof featureColumnSchema>;
/** The label column and how its cells become numbers. */
export type LabelColumn = z.infer<typeof labelColumnSchema>;
/** A study's columns, in the model's input order, and its label: what every site must announce. */
export type DataSchema = z.infer<typeof dataSchemaSchema>;

/** The number of model inputs a schema gives: one per numeric column, one per kept level of a categorical one. */
export function encodedWidth(schema: DataSchema): number {
  return schema.features.reduce((n, f) => n + (f.type === 'numeric' ? 1 : f.levels.length - (f.dropFirst ? 1 : 0)), 0);
}

const quote = (name: string) => `'${name}'`;
const list = (names: readonly string[]) => (names.length <= 6 ? names.map(quote).join(', ') : `${names.slice(0, 5).map(quote).join(', ')} and ${names.length - 5} more`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * How a site's schema differs from the study's, in column terms ("columns 3 and 4 swapped (age, sex)"), or
 * undefined when they match. Columns are numbered from 1 in the model's input order.
 */
export function schemaMismatch(study: DataSchema, site: DataSchema): string | undefined {
  const problems = [...columnProblems(study.features, site.features), ...labelProblems(study.label, site.label)];
  return problems.length === 0 ? undefined : problems.join('; ');
}

function columnProblems(study: readonly FeatureColumn[], site: readonly FeatureColumn[]): string[] {
  const studyNames = study.map((f) => f.name);
  const siteNames = site.map((f) => f.name);
  const extra = siteNames.filter((n) => !studyNames.includes(n));
  const missing = studyNames.filter((n) => !siteNames.includes(n));
  const problems: string[] = [];
  if (site.length !== study.length) {
    const parts = [extra.length ? `extra ${extra.length === 1 ? 'column' : 'columns'} ${list(extra)}` : '', missing.length ? `missing ${list(missing)}` : ''].filter(Boolean);
    problems.push(`${plural(site.length, 'feature column')}, the study has ${study.length}${parts.length ? `: ${parts.join(', ')}` : ''}`);
  } else if (extra.length > 0) {
    for (const name of extra) {
      const at = siteNames.indexOf(name);
      problems.push(`column ${at + 1} is ${quote(name)}, the study has ${quote(studyNames[at]!)} there`);
    }
  } else {
    const moved = studyNames.map((_, i) => i).filter((i) => studyNames[i] !== siteNames[i]);
    const [a, b] = moved;
    if (moved.length === 2 && a !== undefined && b !== undefined && siteNames[a] === studyNames[b] && siteNames[b] === studyNames[a]) {
      problems.push(`columns ${a + 1} and ${b + 1} swapped (${studyNames[a]}, ${studyNames[b]})`);
    } else if (moved.length > 0) {
      const shown = moved.slice(0, 5).map((i) => `column ${i + 1} is ${quote(siteNames[i]!)} (the study's column ${studyNames.indexOf(siteNames[i]!) + 1})`);
      problems.push(`columns in another order: ${shown.join(', ')}${moved.length > 5 ? `, and ${moved.length - 5} more` : ''}`);
    }
  }
  const studyByName = new Map(study.map((f) => [f.name, f]));
  for (const f of site) {
    const s = studyByName.get(f.name);
    if (!s) continue;
    if (s.type !== f.type) problems.push(`column ${quote(f.name)} is ${f.type} here, ${s.type} in the study`);
    else if (s.type === 'categorical' && f.type === 'categorical') {
      if (JSON.stringify(s.levels) !== JSON.stringify(f.levels)) {
        problems.push(`column ${quote(f.name)} has levels ${JSON.stringify(f.levels)}, the study ${JSON.stringify(s.levels)}`);
      } else if (s.dropFirst !== f.dropFirst) {
        problems.push(`column ${quote(f.name)} ${f.dropFirst ? 'drops' : 'keeps'} its first level, the study ${s.dropFirst ? 'drops' : 'keeps'} it`);
      }
    }
  }
  return problems;
}

function labelProblems(study: LabelColumn, site: LabelColumn): string[] {
  if (study.name !== site.name) return [`the label is ${quote(site.name)}, the study's is ${quote(study.name)}`];
  const here = describeTransform(site);
  const there = describeTransform(study);
  return here === there ? [] : [`label ${quote(site.name)} is read as ${here}, the study reads it as ${there}`];
}

/** The label's reading in words, with map entries sorted so that key order does not matter. */
function describeTransform(label: LabelColumn): string {
  const t = label.transform;
  if (t === undefined) return 'a number';
  if ('binarize' in t) return `1 above ${t.binarize.above}, else 0`;
  const entries = Object.entries(t.map).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{ ${entries.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
}
