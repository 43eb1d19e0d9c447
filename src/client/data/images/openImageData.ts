import { countLabels, type CsvDataMeta } from '../loadCsvData.js';
import { schemaFingerprint } from '../fingerprint.js';
import { splitIndices } from '../split.js';
import { DataError } from '../errors.js';
import type { ImageDataConfig, ImageDataConfigInput } from './imageDataConfig.js';
import type { ImageEntry } from './listImages.js';
import { listCheckedImages, pixelNames } from './loadImageData.js';

/** A site's images, listed, checked and split, but not decoded: what a streamed trainer reads batch by batch. */
export interface ImageSplit {
  /** The data config the images were listed with. */
  readonly config: ImageDataConfig;
  /** Class names, in label order. */
  readonly classes: readonly string[];
  /** In the order the in-memory loader's train and test rows have (the same seeded split). */
  readonly train: readonly ImageEntry[];
  /** Held-out images, same order rule. */
  readonly test: readonly ImageEntry[];
  /** What the node announces at hello (fingerprint, rows, classes). */
  readonly meta: CsvDataMeta;
}

/**
 * Lists a site's images, checks every file's header, and splits them into train and test with the seed (stratified
 * on the class as loadImageData does, so both give the same rows in the same order). Nothing is decoded: memory
 * holds the file names and labels only. `print` receives the per-class summary.
 */
export function openImageData(input: ImageDataConfigInput, baseDir: string, print: (line: string) => void = () => undefined): ImageSplit {
  const { config, list } = listCheckedImages(input, baseDir, print);
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
