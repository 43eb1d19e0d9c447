/**
 * UCI Heart Disease as FLamby's Fed-Heart-Disease: four hospitals, one `processed.<centre>.data` file each,
 * preprocessed as FLamby does (FLamby's flamby/datasets/fed_heart_disease):
 * - drop slope, ca and thal; then drop every row with a missing value ('?'): complete-case, no imputation;
 * - one-hot cp (levels 1-4) and restecg (0-2), first level dropped, dummies after the 8 numeric features:
 *   age, sex, trestbps, chol, fbs, thalach, exang, oldpeak, cp_2, cp_3, cp_4, restecg_1, restecg_2;
 * - label = num > 0;
 * - per centre: 66/34 split with seed 43, stratified when both classes have more than 2 rows;
 * - per centre: z-score on that centre's training rows (unbiased std + 1e-9).
 * Split sizes match FLamby's (scikit-learn's ceil rule); which rows land in test differs, because FLamby
 * shuffles with numpy's Mersenne Twister and we with our own seeded generator.
 *
 * The data is never copied into the repository: the caller names the directory that holds the files.
 */
import { join } from 'node:path';
import { loadCsvData, type CsvDataConfig, type LoadedCsvData, type PublicScalingInput } from '../../src/entries/client.js';

/** FLamby's centre order (its centre ids 0-3). */
export const HEART_DISEASE_CENTRES = ['cleveland', 'hungarian', 'switzerland', 'va'] as const;
export type HeartDiseaseCentre = (typeof HEART_DISEASE_CENTRES)[number];

/** The 14 columns of the UCI "processed" files, which have no header line. */
export const HEART_DISEASE_COLUMNS = [
  'age', 'sex', 'cp', 'trestbps', 'chol', 'fbs', 'restecg',
  'thalach', 'exang', 'oldpeak', 'slope', 'ca', 'thal', 'num',
] as const;

/** The data config of one centre, its file inside `dir`. */
export function heartDiseaseDataConfig(dir: string, centre: HeartDiseaseCentre): CsvDataConfig {
  return {
    path: join(dir, `processed.${centre}.data`),
    header: false,
    columns: [...HEART_DISEASE_COLUMNS],
    label: 'num',
    labelTransform: { binarize: { above: 0 } },
    drop: ['slope', 'ca', 'thal'],
    missingValues: ['?'],
    missing: 'drop-row',
    categorical: {
      cp: { levels: [1, 2, 3, 4], dropFirst: true },
      restecg: { levels: [0, 1, 2], dropFirst: true },
    },
    testFraction: 0.34,
    stratify: true,
    seed: 43,
    standardize: true,
  };
}

/** One data config per centre, in FLamby's order; a simulation config reuses them. */
export function heartDiseaseDataConfigs(dir: string): { name: HeartDiseaseCentre; config: CsvDataConfig }[] {
  return HEART_DISEASE_CENTRES.map((name) => ({ name, config: heartDiseaseDataConfig(dir, name) }));
}

/** Load the four centres from `dir` (relative paths resolve against the working directory). */
export function loadHeartDisease(dir: string): { name: HeartDiseaseCentre; data: LoadedCsvData }[] {
  return heartDiseaseDataConfigs(dir).map(({ name, config }) => ({ name, data: loadCsvData(config) }));
}

/**
 * Public ranges of the 13 features, for standardization: public (no statistic of any hospital's rows is used, so it
 * holds under DP). They come from the UCI codebook and clinical plausibility, not from the files: age of adult
 * patients; resting systolic pressure 80-220 mm Hg; serum cholesterol 0-600 mg/dl (the codebook's files write 0 for
 * "not measured", which Switzerland does for every row); maximum heart rate 60-220 bpm; ST depression -3 to 7 mm;
 * indicators 0/1. A value outside its range is clipped to it and counted at the client (in these files: one
 * Hungarian cholesterol of 603, VA's one resting pressure of 0).
 */
export const HEART_DISEASE_PUBLIC_RANGES: PublicScalingInput = {
  outOfRange: 'clip',
  features: {
    age: { min: 20, max: 90 },
    sex: { min: 0, max: 1 },
    trestbps: { min: 80, max: 220 },
    chol: { min: 0, max: 600 },
    fbs: { min: 0, max: 1 },
    thalach: { min: 60, max: 220 },
    exang: { min: 0, max: 1 },
    oldpeak: { min: -3, max: 7 },
    cp_2: { min: 0, max: 1 },
    cp_3: { min: 0, max: 1 },
    cp_4: { min: 0, max: 1 },
    restecg_1: { min: 0, max: 1 },
    restecg_2: { min: 0, max: 1 },
  },
};
