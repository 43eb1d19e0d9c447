/**
 * Split the pooled Wisconsin breast-cancer file (569 rows: 212 malignant, 357 benign) across three
 * simulated hospitals of different sizes and different malignant fractions: a non-IID federation.
 *
 *   north:   300 rows,  75 malignant (25 %)   a screening centre, mostly benign masses
 *   central: 180 rows,  81 malignant (45 %)
 *   south:    89 rows,  56 malignant (63 %)   a referral centre, mostly malignant
 *
 * Deterministic: the seed picks which rows of each class go where; each hospital keeps the pooled file's
 * row order and its exact cell text. Run: npx tsx examples/breast-cancer/make-hospitals.ts
 * The pooled file stays as it is: the central (pooled) baseline trains on all 569 rows.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSeededRng, shuffleInPlace } from '../../src/entries/simulation.js';

const SEED = 2024;
const LABEL = 'target'; // 1 = malignant, 0 = benign
const HOSPITALS = [
  { name: 'north', malignant: 75, benign: 225 },
  { name: 'central', malignant: 81, benign: 99 },
  { name: 'south', malignant: 56, benign: 33 },
] as const;

const dataDir = join(import.meta.dirname, 'data');
const lines = readFileSync(join(dataDir, 'breast_cancer.csv'), 'utf8').split('\n').filter((l) => l !== '');
const [header, ...rows] = lines;
if (header === undefined) throw new Error('breast_cancer.csv is empty');
const labelAt = header.split(',').indexOf(LABEL);
if (labelAt < 0) throw new Error(`breast_cancer.csv has no "${LABEL}" column`);

// Rows are plain numbers (no quoting), so splitting on commas is exact here.
const byClass = { malignant: [] as number[], benign: [] as number[] };
rows.forEach((row, i) => {
  const label = row.split(',')[labelAt];
  if (label === '1') byClass.malignant.push(i);
  else if (label === '0') byClass.benign.push(i);
  else throw new Error(`row ${i + 2}: label ${String(label)} is neither 0 nor 1`);
});
const want = (k: 'malignant' | 'benign'): number => HOSPITALS.reduce((n, h) => n + h[k], 0);
if (want('malignant') !== byClass.malignant.length || want('benign') !== byClass.benign.length) {
  throw new Error(
    `hospital quotas (${want('malignant')} malignant, ${want('benign')} benign) do not use the ` +
      `${byClass.malignant.length} malignant and ${byClass.benign.length} benign rows exactly`,
  );
}

const rng = createSeededRng(SEED);
const malignant = shuffleInPlace([...byClass.malignant], rng);
const benign = shuffleInPlace([...byClass.benign], rng);
mkdirSync(join(dataDir, 'hospitals'), { recursive: true });
let m = 0;
let b = 0;
for (const h of HOSPITALS) {
  const picked = [...malignant.slice(m, m + h.malignant), ...benign.slice(b, b + h.benign)].sort((p, q) => p - q);
  m += h.malignant;
  b += h.benign;
  const out = [header, ...picked.map((i) => rows[i] as string)].join('\n') + '\n';
  writeFileSync(join(dataDir, 'hospitals', `${h.name}.csv`), out);
  const share = ((100 * h.malignant) / picked.length).toFixed(1);
  const size = String(picked.length).padStart(3);
  console.log(`${h.name.padEnd(8)} ${size} rows  ${h.malignant} malignant (${share} %)  ${h.benign} benign`);
}
