import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/client/backend/index.js';
import { freePort, startCli } from '../../helpers/cli.js';
import { writePng } from '../../helpers/imageFiles.js';
import { writeKerasStyleModel } from '../../helpers/kerasStyleModel.js';

const SIZE = 8;

beforeAll(async () => {
  await selectBackend({ preference: 'cpu', env: {}, log: () => {} });
});

function writeSite(folder: string, offset: number): void {
  for (let n = 0; n < 12; n++) {
    const p = (n * 3 + offset) % SIZE;
    writePng(join(folder, 'vertical', `${n}.png`), SIZE, SIZE, (i) => (i % SIZE === p ? 250 : 20));
    writePng(join(folder, 'horizontal', `${n}.png`), SIZE, SIZE, (i) => (Math.floor(i / SIZE) === p ? 250 : 20));
  }
}

describe('cohort client downloads model.json from a cohort coordinator process', () => {
  it('trains with the model whose hash it pinned, and refuses another, naming both hashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-model-download-'));
    const modelPath = await writeKerasStyleModel(join(dir, 'model'), SIZE);
    const served = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
    const agreed = createHash('sha256').update('the model.json this hospital reviewed').digest('hex');
    writeSite(join(dir, 'north'), 0);
    writeSite(join(dir, 'south'), 1);
    const port = await freePort();
    writeFileSync(
      join(dir, 'coordinator.yaml'),
      `name: download\nseed: 1\nrounds: 1\nmodel: { type: file, path: model/model.json }\ntraining: { epochs: 1, batchSize: 8, learningRate: 0.05 }\n` +
        `strategy: { minFitClients: 1 }\nstandardization: none\naccess: { mode: open }\ncoordinator: { host: 127.0.0.1, port: ${port}, waitForClientsSeconds: 60 }\nstore: { path: runs.db }\n`,
    );
    const client = (name: string, pin: string) =>
      writeFileSync(
        join(dir, `${name}.yaml`),
        `name: ${name}\ncoordinator: http://127.0.0.1:${port}\nmodel: { type: file, path: http://127.0.0.1:${port}/model.json }\nsecurity: { modelSha256: ${pin} }\n` +
          `data: { type: images, folder: ${name}, height: ${SIZE}, width: ${SIZE} }\n`,
      );
    client('north', served);
    client('south', agreed);
    // The hospital starts first: its node waits for the coordinator's model.json as it waits for its socket.
    const north = startCli(['client', '--config', join(dir, 'north.yaml')]);
    const gaveUp = north.exited.then((r) => Promise.reject(new Error(`the client exited (${r.code}) instead of waiting: ${r.stderr}`)));
    await Promise.race([north.waitFor(/model: cannot download http:\/\/127\.0\.0\.1:\d+\/model\.json yet \(.*ECONNREFUSED.*\); trying again in/), gaveUp]);
    // The second hospital waits too (a coordinator that has already finished its one round would never answer it).
    const southRun = startCli(['client', '--config', join(dir, 'south.yaml')]);
    await southRun.waitFor(/model: cannot download .* yet/);
    const coordinator = startCli(['coordinator', '--config', join(dir, 'coordinator.yaml')]);
    const [c, n, south] = await Promise.all([coordinator.exited, north.exited, southRun.exited]);

    expect(c.stdout).toContain(`model: model/model.json, sha256 ${served} (clients download it from /model.json)`);
    expect(c.code).toBe(0);
    // Reading the model file makes tensors before anything else: tfjs's "install our node backend" banner stays off.
    expect(c.stderr).not.toMatch(/looks like you are running TensorFlow\.js/);
    expect(n.code).toBe(0);
    expect(n.stdout).toContain(`model: http://127.0.0.1:${port}/model.json, sha256 ${served}`);
    expect(n.stdout).toMatch(/round 1: trained on 18 examples/);
    expect(n.stdout).toMatch(/run ended: run .* completed 1 rounds?/);
    // The pin differs from what the coordinator serves: the node stops before training, naming both hashes.
    expect(south.code).toBe(1);
    expect(south.stderr).toContain(`the model's SHA-256 is ${served}, but this client (security.modelSha256) pins ${agreed}: refusing a model other than the one pinned`);
    expect(south.stdout).not.toMatch(/joined run/);
  });
});
