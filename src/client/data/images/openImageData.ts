import { countLabels, type CsvDataMeta } from '../loadCsvData.js';
import { schemaFingerprint } from '../fingerprint.js';
import { splitIndices } from '../split.js';
import { DataError } from '../errors.js';
import { ImageError } from './decodedImage.js';
import { imageDataConfigSchema, type ImageDataConfig, type ImageDataConfigInput } from './imageDataConfig.js';
import { listImages, type ImageEntry, type ImageList } from './listImages.js';
import { describeImages, pixelNames } from './loadImageData.js';
import { probeImage } from './probeImage.js';

/** A site's images, listed, checked and split, but not decoded: what a streamed trainer reads batch by batch. */
export interface ImageSplit {
  readonly config: ImageDataConfig;
  readonly classes: readonly string[];
  /** In the order the in-memory loader's train and test rows have (the same seeded split). */
  readonly train: readonly ImageEntry[];
  readonly test: readonly ImageEntry[];
  readonly meta: CsvDataMeta;
}

/** Files named in the error when several fail the start check; the rest are counted. */
const FILES_NAMED = 5;

/**
 * Checks every file's header (see probeImage), and its size when the config refuses to resize: the problems a
 * hospital can fix before a run, found in seconds rather than rounds into training.
 */
export function checkImageFiles(list: ImageList, config: ImageDataConfig): void {
  const problems: ImageError[] = [];
  for (const entry of list.entries) {
    try {
      const { width, height } = probeImage(entry.file);
      if (!config.resize && width !== undefined && height !== undefined && (width !== config.width || height !== config.height)) {
        throw new ImageError(entry.file, `is ${width}x${height} (width x height), but the config expects ${config.width}x${config.height}: resize it, or set resize: true`);
      }
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      problems.push(e);
    }
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    const more = problems.length > FILES_NAMED ? `; and ${problems.length - FILES_NAMED} more` : '';
    throw new DataError(`${problems.length} of ${list.entries.length} image files cannot be used: ${problems.slice(0, FILES_NAMED).map((e) => e.message).join('; ')}${more}`, { file: list.source });
  }
}

/**
 * Lists a site's images, checks every file's header, and splits them into train and test with the seed (stratified
 * on the class as loadImageData does, so both give the same rows in the same order). Nothing is decoded: memory
 * holds the file names and labels only. `print` receives the per-class summary.
 */
export function openImageData(input: ImageDataConfigInput, baseDir: string, print: (line: string) => void = () => undefined): ImageSplit {
  const parsed = imageDataConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new DataError(`image data config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  }
  const config = parsed.data;
  const list = listImages(config, baseDir);
  print(describeImages(list));
  checkImageFiles(list, config);
  const labels = Float32Array.from(list.entries, (e) => e.label);
  let split;
  try {
    split = splitIndices(labels, { testFraction: config.testFraction, stratify: config.stratify, seed: config.seed });
  } catch (e) {
    throw e instanceof RangeError ? new DataError(e.message, { file: list.source }) : e;
  }
  const rows = list.entries.length;
  const featureNames = pixelNames(config);
  return {
    config,
    classes: list.classes,
    train: split.train.map((i) => list.entries[i]!),
    test: split.test.map((i) => list.entries[i]!),
    meta: {
      file: list.source,
      rowsRead: rows,
      rowsDropped: 0,
      rowsKept: rows,
      trainRows: split.train.length,
      testRows: split.test.length,
      featureCount: featureNames.length,
      stratified: split.stratified,
      standardized: false,
      schemaFingerprint: schemaFingerprint(featureNames),
      missingByColumn: {},
      rowsPerLabel: countLabels(labels),
    },
  };
}
