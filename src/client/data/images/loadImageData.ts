import { countLabels } from '../loadCsvData.js';
import { schemaFingerprint } from '../fingerprint.js';
import type { LoadedCsvData } from '../loadCsvData.js';
import { trainTestSplit } from '../split.js';
import { DataError } from '../errors.js';
import { imageDataConfigSchema, type ImageDataConfig, type ImageDataConfigInput } from './imageDataConfig.js';
import { listImages, type ImageEntry, type ImageList } from './listImages.js';
import { readImage } from './readImage.js';
import { ImageError } from './decodedImage.js';
import { checkImageFiles } from './checkImageFiles.js';

/** Feature names of a flattened image: `y{row}x{col}c{channel}`, so two sites agree exactly when their shapes do. */
export function pixelNames(config: Pick<ImageDataConfig, 'height' | 'width' | 'channels'>): string[] {
  const names: string[] = [];
  for (let r = 0; r < config.height; r++) for (let c = 0; c < config.width; c++) for (let k = 0; k < config.channels; k++) names.push(`y${r}x${c}c${k}`);
  return names;
}

/** Images per class (and per site when a manifest names sites): the summary a node prints before training. */
export function describeImages(list: ImageList): string {
  const counts = list.classes.map(() => 0);
  const sites = new Map<string, number>();
  for (const e of list.entries) {
    counts[e.label]!++;
    if (e.site !== undefined) sites.set(e.site, (sites.get(e.site) ?? 0) + 1);
  }
  const perClass = list.classes.map((c, i) => `${c}:${counts[i]}`).join(' ');
  const perSite = sites.size > 0 ? `; sites ${[...sites].map(([s, n]) => `${s}:${n}`).join(' ')}` : '';
  return `${list.source}: ${list.entries.length} images, ${list.classes.length} classes ${perClass}${perSite}`;
}

/**
 * Decodes images in batches of `batchSize`, in list order: at most one batch of pixels is in memory at a time (a
 * site's images need not fit). Each batch is `rows x (height * width * channels)` values and its labels.
 */
export async function* imageBatches(entries: readonly ImageEntry[], config: ImageDataConfig, batchSize: number): AsyncGenerator<{ x: Float32Array; y: Float32Array; rows: number; files: string[] }, void, undefined> {
  const width = config.height * config.width * config.channels;
  for (let start = 0; start < entries.length; start += batchSize) {
    const batch = entries.slice(start, start + batchSize);
    const x = new Float32Array(batch.length * width);
    batch.forEach((e, i) => x.set(readImage(e.file, config), i * width));
    yield { x, y: Float32Array.from(batch, (e) => e.label), rows: batch.length, files: batch.map((e) => e.file) };
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * The first steps of every image load: the config parsed (its errors named by field), the files listed, their
 * per-class summary printed, and every file's header checked (nothing decoded).
 */
export function listCheckedImages(input: ImageDataConfigInput, baseDir: string, print: (line: string) => void): { config: ImageDataConfig; list: ImageList } {
  const parsed = imageDataConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new DataError(`image data config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  }
  const config = parsed.data;
  const list = listImages(config, baseDir);
  print(describeImages(list));
  checkImageFiles(list, config);
  return { config, list };
}

/**
 * Loads a client's images into train and test tables (rows of flattened pixels, labels as class indices), split with
 * the seed, stratified on the class when every class has enough images. A file that cannot be used stops the load with
 * an error naming it and what is wrong. `print` receives the per-class summary.
 */
export async function loadImageData(input: ImageDataConfigInput, baseDir: string, print: (line: string) => void = () => undefined): Promise<LoadedCsvData & { readonly classes: readonly string[] }> {
  const { config, list } = listCheckedImages(input, baseDir, print);
  const featureNames = pixelNames(config);
  const width = featureNames.length;
  const x = new Float32Array(list.entries.length * width);
  const y = new Float32Array(list.entries.length);
  let row = 0;
  for await (const batch of imageBatches(list.entries, config, 256)) {
    x.set(batch.x, row * width);
    y.set(batch.y, row);
    row += batch.rows;
  }
  let split;
  try {
    split = trainTestSplit({ x, y, rows: row, featureNames }, { testFraction: config.testFraction, stratify: config.stratify, seed: config.seed });
  } catch (e) {
    throw e instanceof RangeError ? new DataError(e.message, { file: list.source }) : e;
  }
  return {
    train: split.train,
    test: split.test,
    classes: list.classes,
    meta: {
      file: list.source,
      rowsRead: row,
      rowsDropped: 0,
      rowsKept: row,
      trainRows: split.train.rows,
      testRows: split.test.rows,
      featureCount: width,
      stratified: split.stratified,
      standardized: false,
      schemaFingerprint: schemaFingerprint(featureNames),
      // Pixels have no named columns to check across sites: the fingerprint (size and channels) stands for them.
      missingByColumn: {},
      rowsPerLabel: countLabels(y.subarray(0, row)),
    },
  };
}

export { ImageError };
