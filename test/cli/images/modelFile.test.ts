import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../../src/cli/config/experimentConfig.js';
import { loadClientModelFile, serveModelJson } from '../../../src/cli/modelDistribution.js';
import { simulate } from '../../../src/cli/simulate.js';
import { selectBackend } from '../../../src/client/backend/index.js';
import { readModelFile } from '../../../src/client/model/modelFile.js';
import { readModelWeights } from '../../../src/client/model/modelWeights.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { TestFederation } from '../../helpers/federation.js';
import { writePng } from '../../helpers/imageFiles.js';
import { writeKerasStyleModel } from '../../helpers/kerasStyleModel.js';
import { silent } from '../../helpers/silentLogger.js';

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', env: {}, log: () => {} });
});
const federation = new TestFederation();
afterEach(() => federation.close());

const SIZE = 8;

function writeSites(root: string): void {
  for (const site of ['north', 'south']) {
    for (let n = 0; n < 20; n++) {
      const p = (n * 3 + (site === 'north' ? 0 : 1)) % SIZE;
      writePng(join(root, site, 'vertical', `${n}.png`), SIZE, SIZE, (i) => (i % SIZE === p ? 250 : 20));
      writePng(join(root, site, 'horizontal', `${n}.png`), SIZE, SIZE, (i) => (Math.floor(i / SIZE) === p ? 250 : 20));
    }
  }
}

describe('model: { type: file, path: model.json }', () => {
  it('federates a tfjs layers model written by model.save, from a config, with the hash printed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cohort-model-file-'));
    const path = await writeKerasStyleModel(join(root, 'model'), SIZE);
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    writeSites(root);
    const lines: string[] = [];
    const config = experimentConfigSchema.parse({
      name: 'model-file',
      seed: 5,
      rounds: 2,
      backend: 'wasm',
      logLevel: 'silent',
      model: { type: 'file', path: 'model/model.json', sha256 },
      training: { epochs: 3, batchSize: 8, learningRate: 0.03 },
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
    expect(lines).toContain(`model: model/model.json, sha256 ${sha256}, 254 parameters (initial weights from its weight files)`);
    expect(result.run.history).toHaveLength(2);
    expect(result.pooledAccuracy).toBeGreaterThan(0.7);
  });

  it('refuses, at the coordinator, a file whose hash is not the one the config pins, naming both', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cohort-model-pin-'));
    const path = await writeKerasStyleModel(join(root, 'model'), SIZE);
    const actual = createHash('sha256').update(readFileSync(path)).digest('hex');
    const pinned = 'ab'.repeat(32);
    await expect(readModelFile({ type: 'file', path, sha256: pinned }, root)).rejects.toThrow(`the model's SHA-256 is ${actual}, but model.sha256 in the config pins ${pinned}: refusing a model other than the one pinned`);
  });

  it('a client downloads the model the coordinator serves, and refuses it when its pin differs, naming both hashes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cohort-model-serve-'));
    const path = await writeKerasStyleModel(join(root, 'model'), SIZE);
    const { spec, model } = await readModelFile({ type: 'file', path }, root);
    const coordinator = await federation.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit: { epochs: 1, batchSize: 8, learningRate: 0.01 } }), initialWeights: readModelWeights(model), rounds: 1, logger: silent });
    serveModelJson(coordinator, spec.json);
    const url = `${coordinator.url}/model.json`;
    const got = await loadClientModelFile({ type: 'file', path: url }, root, SIZE * SIZE, 1, spec.sha256);
    expect(got.sha256).toBe(spec.sha256);
    expect(got.model.countParams()).toBe(model.countParams());
    // The coordinator serves another model than the one this hospital agreed to: refused before training.
    const agreed = createHash('sha256').update('another model.json').digest('hex');
    await expect(loadClientModelFile({ type: 'file', path: url }, root, SIZE * SIZE, 1, agreed)).rejects.toThrow(
      `the model's SHA-256 is ${spec.sha256}, but this client (security.modelSha256) pins ${agreed}: refusing a model other than the one pinned`,
    );
    got.model.dispose();
    model.dispose();
  });
});
