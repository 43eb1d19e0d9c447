import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../../src/cli/config/experimentConfig.js';
import { simulate } from '../../../src/cli/simulate.js';
import { writeDicom, writePng } from '../../helpers/imageFiles.js';

const SIZE = 8;

/** Class "vertical": a bright column; class "horizontal": a bright row; at varying positions, as PNG or DICOM. */
function writeSite(dir: string, count: number, offset: number): void {
  for (let n = 0; n < count; n++) {
    const p = (n * 3 + offset) % SIZE;
    writePng(join(dir, 'vertical', `${n}.png`), SIZE, SIZE, (i) => (i % SIZE === p ? 250 : 20));
    const values = Array.from({ length: SIZE * SIZE }, (_, i) => (Math.floor(i / SIZE) === p ? 4000 : 100));
    writeDicom(join(dir, 'horizontal', `${n}.dcm`), { rows: SIZE, columns: SIZE, values, slope: 0.5, intercept: -20, window: { center: 1000, width: 2000 } });
  }
}

describe('a CNN federated over image folders (PNG and DICOM), from a config', () => {
  it('trains through cohort simulate: every round, both sites, accuracy well above chance', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cohort-image-fed-'));
    writeSite(join(root, 'north'), 24, 0);
    writeSite(join(root, 'south'), 24, 1);
    const lines: string[] = [];
    const config = experimentConfigSchema.parse({
      name: 'image-fed',
      seed: 5,
      rounds: 3,
      backend: 'wasm',
      logLevel: 'silent',
      model: {
        type: 'layers',
        inputShape: [SIZE, SIZE, 1],
        outputs: 2,
        layers: [
          { type: 'conv2d', filters: 8, kernelSize: 3 },
          { type: 'maxPool', poolSize: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 16 },
        ],
      },
      training: { epochs: 2, batchSize: 8, learningRate: 0.01 },
      strategy: { minFitClients: 2 },
      standardization: 'none',
      dataDefaults: { type: 'images', height: SIZE, width: SIZE, testFraction: 0.25 },
      clients: [
        { name: 'north', data: { folder: 'north' } },
        { name: 'south', data: { folder: 'south' } },
      ],
      simulation: { workers: 0 },
      centralBaseline: false,
    });
    const result = await simulate(config, { baseDir: root, print: (l) => lines.push(l) });
    expect(lines).toContain(`${join(root, 'north')}: 48 images, 2 classes horizontal:24 vertical:24`);
    expect(result.run.history).toHaveLength(3);
    expect(result.run.history.every((r) => r.fit.outcomes.filter((o) => !o.failure).length === 2)).toBe(true);
    expect(result.pooledAccuracy).toBeGreaterThan(0.8);
  });
});
