import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/client/backend/index.js';
import { DataError } from '../../../../src/client/data/errors.js';
import { ImageError, loadImageData } from '../../../../src/client/data/images/index.js';
import { openImageData } from '../../../../src/client/data/images/openImageData.js';
import { createImageTrainer } from '../../../../src/client/imageTrainer.js';
import { modelSpecSchema } from '../../../../src/client/model/modelSpec.js';
import { createTabularTrainer } from '../../../../src/client/tabularTrainer.js';
import { FedAvg } from '../../../../src/coordinator/strategies/fedAvg.js';
import { TestFederation } from '../../../helpers/federation.js';
import { writeDicom, writeJpeg, writePng } from '../../../helpers/imageFiles.js';
import { silent } from '../../../helpers/silentLogger.js';

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', env: {}, log: () => {} });
});
const federation = new TestFederation();
afterEach(() => federation.close());

const SIZE = 8;
const dir = () => mkdtempSync(join(tmpdir(), 'cohort-stream-'));
const model = modelSpecSchema.parse({
  type: 'layers',
  inputShape: [SIZE, SIZE, 1],
  outputs: 2,
  layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'maxPool', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 8 }],
});
const imageConfig = (folder: string) => ({ type: 'images' as const, folder, height: SIZE, width: SIZE, testFraction: 0.25, seed: 3 });

/** `count` images per class: a bright column ("vertical") or a bright row ("horizontal") at varying positions. */
function writeSite(root: string, count: number): void {
  for (let n = 0; n < count; n++) {
    const p = (n * 3) % SIZE;
    writePng(join(root, 'vertical', `${String(n).padStart(4, '0')}.png`), SIZE, SIZE, (i) => (i % SIZE === p ? 240 : 10 + (n % 7)));
    writePng(join(root, 'horizontal', `${String(n).padStart(4, '0')}.png`), SIZE, SIZE, (i) => (Math.floor(i / SIZE) === p ? 240 : 10 + (n % 5)));
  }
}

const flat = (weights: readonly { readonly data: Float32Array }[]) => weights.map((w) => Array.from(w.data));

describe('images streamed from their files, a batch at a time', () => {
  it('trains and evaluates exactly as the same images loaded in memory, for the same seed', async () => {
    const root = dir();
    writeSite(root, 30);
    const memory = await loadImageData(imageConfig(root), root);
    const inMemory = createTabularTrainer({ model, data: memory, optimizer: 'sgd', seed: 9 });
    const site = openImageData(imageConfig(root), root);
    expect(site.train.length).toBe(memory.train.rows);
    const streamed = createImageTrainer({ model, data: site, optimizer: 'sgd', seed: 9 });
    for (const round of [1, 2]) {
      const fit = { round, epochs: 2, batchSize: 7, learningRate: 0.05 };
      const [a, b] = [await inMemory.fit(fit), await streamed.trainer.fit(fit)];
      expect(b).toEqual(a);
    }
    // Weight for weight, bit for bit: the same rows in the same batches gave the same model.
    expect(flat(streamed.trainer.getWeights())).toEqual(flat(inMemory.getWeights()));
    expect(await streamed.trainer.evaluate({ round: 2, batchSize: 5 })).toEqual(await inMemory.evaluate({ round: 2, batchSize: 5 }));
    // It learned: the two patterns are told apart.
    expect((await streamed.trainer.evaluate({ round: 2, batchSize: 5 })).metrics.accuracy).toBeGreaterThan(0.8);
    inMemory.dispose();
    streamed.trainer.dispose();
  });

  it('holds at most one batch of decoded images while training and evaluating a site of 1,600 images', async () => {
    const root = dir();
    writeSite(root, 800);
    const site = openImageData(imageConfig(root), root);
    const { trainer, train, test } = createImageTrainer({ model, data: site, optimizer: 'sgd', seed: 1 });
    const tensorsBefore = tf.memory().numTensors;
    await trainer.fit({ round: 1, epochs: 2, batchSize: 16, learningRate: 0.05 });
    // Every training image was decoded once per epoch, never more than a batch of them alive at once.
    expect(train.stats).toMatchObject({ decoded: 2 * site.train.length, held: 0, peakHeld: 16 });
    const evaluation = await trainer.evaluate({ round: 1, batchSize: 32 });
    expect(evaluation.numExamples).toBe(400);
    expect(test.stats).toMatchObject({ decoded: 400, held: 0, peakHeld: 32 });
    expect(evaluation.metrics.accuracy).toBeGreaterThan(0.8);
    // No batch leaked as tensors either.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    trainer.dispose();
  });

  it('keeps DP-SGD Poisson batches bounded too (each step decodes only its sampled rows)', async () => {
    const root = dir();
    writeSite(root, 100);
    const site = openImageData(imageConfig(root), root);
    const { trainer, train } = createImageTrainer({ model, data: site, optimizer: 'sgd', seed: 1, dpSgd: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 } });
    await trainer.fit({ round: 1, epochs: 1, batchSize: 10, learningRate: 0.05 });
    const { decoded, held, peakHeld } = train.stats;
    // 15 steps at q = 10 / 150: about 150 decodes in all; a step's batch is Binomial(150, 1/15), far below the site.
    expect(held).toBe(0);
    expect(decoded).toBeGreaterThan(75);
    expect(decoded).toBeLessThan(300);
    expect(peakHeld).toBeLessThan(30);
    trainer.dispose();
  });
});

describe('bad files, at start and mid-training', () => {
  it('checks every header at start: an empty file, a PNG cut inside its header, a DICOM without its prefix, a PNG or JPEG of the wrong size are named before training', () => {
    const root = dir();
    writeSite(root, 4);
    writeFileSync(join(root, 'vertical', 'empty.png'), '');
    expect(() => openImageData(imageConfig(root), root)).toThrow(new ImageError(join(root, 'vertical', 'empty.png'), 'is empty'));
    writeFileSync(join(root, 'horizontal', 'photo.png'), readFileSync(join(root, 'vertical', '0000.png')).subarray(0, 16));
    writeFileSync(join(root, 'horizontal', 'scan.dcm'), Buffer.alloc(200));
    writeDicom(join(root, 'horizontal', 'ok.dcm'), { rows: SIZE, columns: SIZE, values: new Array(SIZE * SIZE).fill(7) });
    let error: unknown;
    try {
      openImageData(imageConfig(root), root);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(
      `${root}: 3 of 12 image files cannot be used: ` +
        `${join(root, 'horizontal', 'photo.png')}: cannot decode this PNG (no IHDR chunk after the signature); is the file complete?; ` +
        `${join(root, 'horizontal', 'scan.dcm')}: cannot read this DICOM file (no DICM prefix after the 128-byte preamble); is it a DICOM Part 10 file, complete?; ` +
        `${join(root, 'vertical', 'empty.png')}: is empty`,
    );
    const sized = dir();
    writeSite(sized, 3);
    writePng(join(sized, 'vertical', 'big.png'), 12, 10, () => 0);
    expect(() => openImageData({ ...imageConfig(sized), resize: false }, sized)).toThrow(`${join(sized, 'vertical', 'big.png')}: is 12x10 (width x height), but the config expects 8x8: resize it, or set resize: true`);
    // A JPEG's size comes from its frame header (SOF0), found by walking its segments.
    const jpegs = dir();
    writeSite(jpegs, 3);
    writeJpeg(join(jpegs, 'horizontal', 'wide.jpg'), 16, 8, () => [90, 90, 90]);
    expect(() => openImageData({ ...imageConfig(jpegs), resize: false }, jpegs)).toThrow(`${join(jpegs, 'horizontal', 'wide.jpg')}: is 16x8 (width x height), but the config expects 8x8: resize it, or set resize: true`);
    writeJpeg(join(jpegs, 'horizontal', 'wide.jpg'), 8, 8, () => [90, 90, 90]);
    expect(openImageData({ ...imageConfig(jpegs), resize: false }, jpegs).meta.rowsRead).toBe(7);
  });

  it('a file damaged past its header fails its round without naming it upstream, is set aside, and the node trains the next round', async () => {
    const root = dir();
    writeSite(root, 12);
    // A valid header, then the data cut short: the start check passes, the decoder fails when a batch needs it.
    const bad = join(root, 'vertical', '0005.png');
    writeFileSync(bad, readFileSync(bad).subarray(0, 40));
    const site = openImageData(imageConfig(root), root);
    expect(site.train.map((e) => e.file)).toContain(bad);
    const local: string[] = [];
    const node = createImageTrainer({ model, data: site, optimizer: 'sgd', seed: 2, onSetAside: (e) => local.push(e.message) });
    const other = dir();
    writeSite(other, 12);
    const healthy = createImageTrainer({ model, data: openImageData(imageConfig(other), other), optimizer: 'sgd', seed: 2 });
    // A healthy site beside it, so the federation's round completes without the damaged site's update.
    const strategy = new FedAvg({ minFitClients: 1, minAvailableClients: 2, fit: { epochs: 1, batchSize: 4, learningRate: 0.05 } });
    const coordinator = await federation.coordinator({ strategy, initialWeights: node.trainer.getWeights(), rounds: 2, logger: silent });
    federation.client(coordinator.url, 'damaged', node.trainer, { logger: silent });
    federation.client(coordinator.url, 'healthy', healthy.trainer, { logger: silent });
    const run = await coordinator.run();
    expect(run.history.map((r) => r.attempts)).toEqual([1, 1]);
    const [first, second] = run.history.map((r) => new Map(r.fit.outcomes.map((o) => [o.client, o])));
    const failure = first!.get('damaged')!.failure!;
    expect(failure.detail).toContain('an image of this site failed to decode mid-training and was set aside');
    expect(failure.detail).not.toContain(root); // the path stays at the site
    expect(first!.get('healthy')!.failure).toBeUndefined();
    // The next round: the damaged site trains on the images left.
    expect(second!.get('damaged')).toMatchObject({ numExamples: site.train.length - 1 });
    expect(second!.get('damaged')!.failure).toBeUndefined();
    expect(local).toHaveLength(1);
    expect(local[0]).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot decode this PNG \\(.+\\); is the file complete\\?$`));
    expect(node.train.stats.setAside).toEqual(local);
    node.trainer.dispose();
    healthy.trainer.dispose();
  });
});
