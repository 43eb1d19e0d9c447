import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { clientDataConfig, experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { simulate } from '../../src/cli/simulate.js';
import { loadCsvData, type TabularData } from '../../src/client/data/index.js';
import { runCli } from '../helpers/cli.js';

const baseDir = 'examples/breast-cancer';

/** A table's rows as the raw CSV a hospital would hold: a header, the feature columns, the label. */
function writeRawCsv(file: string, data: TabularData, label: string): void {
  const width = data.featureNames.length;
  const rows = Array.from({ length: data.rows }, (_, r) => [...data.x.subarray(r * width, (r + 1) * width), data.y[r]].join(','));
  writeFileSync(file, `${[...data.featureNames, label].join(',')}\n${rows.join('\n')}\n`);
}

/** A 3-hospital breast-cancer simulation with a store in a fresh folder, then `cohort export` of its last round. */
async function simulateAndExport(name: string, overrides: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), `cohort-${name}-`));
  const config = experimentConfigSchema.parse({
    name,
    seed: 5,
    rounds: 3,
    backend: 'cpu',
    logLevel: 'silent',
    model: { type: 'mlp', hidden: [8], outputs: 1 },
    training: { epochs: 1, batchSize: 16, learningRate: 0.01 },
    strategy: { minFitClients: 3 },
    dataDefaults: { label: 'target', testFraction: 0.25, seed: 7 },
    clients: ['north', 'central', 'south'].map((n) => ({ name: n, data: { path: `data/hospitals/${n}.csv` } })),
    centralBaseline: false,
    simulation: { workers: 0 },
    store: { path: join(dir, 'cohort.db') },
    ...overrides,
  });
  const result = await simulate(config, { baseDir, print: () => undefined });
  const exported = await runCli(['export', '--store', join(dir, 'cohort.db'), '--run', result.run.runId, '--out', join(dir, 'model')]);
  return { dir, config, result, exported };
}

describe('cohort export, then cohort predict on raw rows', () => {
  it("gives the accuracy of a client's last federated evaluation on that client's raw test split", async () => {
    const { dir, config, result, exported } = await simulateAndExport('export-predict', {});
    expect(exported.code).toBe(0);
    // tfjs's "install our node backend" banner is not printed: Cohort says which backend runs itself.
    expect(exported.stderr).not.toMatch(/install our node backend/);
    expect(exported.stdout).toMatch(/standardization of 30 features is folded into the first layer/);
    const pre = JSON.parse(readFileSync(join(dir, 'model', 'preprocessing.json'), 'utf8')) as { schema: { features: unknown[]; label: { name: string } }; standardization: string; manifestSha256: string; round: number };
    expect(pre).toMatchObject({ standardization: 'folded', round: 3, schema: { label: { name: 'target' } } });
    expect(pre.schema.features).toHaveLength(30);
    expect(pre.manifestSha256).toMatch(/^[0-9a-f]{64}$/);

    for (const [i, name] of ['north', 'central', 'south'].entries()) {
      // The client's own test rows, raw (unscaled), exactly as its loader split them.
      const { test } = loadCsvData({ ...clientDataConfig(config, i), standardize: false }, baseDir);
      const file = join(dir, `${name}-test.csv`);
      writeRawCsv(file, test, 'target');
      const predicted = await runCli(['predict', '--model', join(dir, 'model'), '--data', file, '--out', join(dir, `${name}-predictions.csv`)]);
      expect(predicted.code, predicted.stderr).toBe(0);
      expect(predicted.stderr).not.toMatch(/install our node backend/);
      const accuracy = Number(/^accuracy (\d\.\d{4}) on (\d+) rows/m.exec(predicted.stdout)?.[1]);
      const federated = result.perClientAccuracy[name]!;
      // Same rows, same model: the raw-row prediction agrees with the run's last federated evaluation.
      expect(accuracy, `${name}: predict ${accuracy}, federated evaluation ${federated}`).toBeCloseTo(federated, 4);
      expect(readFileSync(join(dir, `${name}-predictions.csv`), 'utf8').trim().split('\n')).toHaveLength(test.rows + 1);
    }

    // Shuffled columns are read by name, so the same rows in another column order predict the same.
    const { test } = loadCsvData({ ...clientDataConfig(config, 2), standardize: false }, baseDir);
    const width = test.featureNames.length;
    const order = [...test.featureNames.keys()].reverse();
    const rows = Array.from({ length: test.rows }, (_, r) => [test.y[r], ...order.map((j) => test.x[r * width + j])].join(','));
    writeFileSync(join(dir, 'reordered.csv'), `${['target', ...order.map((j) => test.featureNames[j])].join(',')}\n${rows.join('\n')}\n`);
    const reordered = await runCli(['predict', '--model', join(dir, 'model'), '--data', join(dir, 'reordered.csv')]);
    expect(/^accuracy (\d\.\d{4})/m.exec(reordered.stdout)?.[1]).toBe(result.perClientAccuracy.south!.toFixed(4));
  });

  it('carries public-range scaling beside the weights, and predict applies it to raw rows', async () => {
    const { publicScaling } = parseYaml(readFileSync(join(baseDir, 'private.yaml'), 'utf8')) as { publicScaling: unknown };
    const { dir, config, result, exported } = await simulateAndExport('export-predict-public', {
      rounds: 2,
      training: { epochs: 1, batchSize: 16, learningRate: 0.1 },
      standardization: 'public',
      publicScaling,
    });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/scaled from public ranges/);
    const pre = JSON.parse(readFileSync(join(dir, 'model', 'preprocessing.json'), 'utf8')) as { standardization: string; publicScaling: unknown };
    expect(pre.standardization).toBe('public');
    expect(pre.publicScaling).toEqual(config.publicScaling);
    const { test } = loadCsvData({ ...clientDataConfig(config, 0), standardize: false, publicScaling: undefined }, baseDir);
    const file = join(dir, 'north-test.csv');
    writeRawCsv(file, test, 'target');
    const predicted = await runCli(['predict', '--model', join(dir, 'model'), '--data', file]);
    expect(predicted.code, predicted.stderr).toBe(0);
    const accuracy = Number(/^accuracy (\d\.\d{4})/m.exec(predicted.stdout)?.[1]);
    // Without the ranges applied the raw values (radius ~6-30, area ~140-2500) would saturate the model.
    expect(accuracy).toBeCloseTo(result.perClientAccuracy.north!, 4);
  });
});
