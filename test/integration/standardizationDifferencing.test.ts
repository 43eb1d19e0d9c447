import { afterEach, describe, expect, it } from 'vitest';
import { applyPublicScaling, loadCsvData, takeRows, type TrainTest } from '../../src/client/data/index.js';
import type { FeatureScaler } from '../../src/client/featureScaler.js';
import { TabularScaler } from '../../src/client/tabularScaler.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { loadConfig } from '../../src/cli/config/loadConfig.js';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { memoryLogger } from '../helpers/memoryLogger.js';
import { silent } from '../helpers/silentLogger.js';

// The attack of issue 12 on federated standardization: two runs whose federations differ by one patient at one site.
// The coordinator sees the federation's feature means (float32) and the row count of round 0, so the patient's
// features are N' m' - N m. Real parts: the breast-cancer hospitals' rows, each client's TabularScaler (the scaler
// `cohort client` and `simulate` use), sockets on loopback.
const baseDir = 'examples/breast-cancer';
const hospital = (name: string): TrainTest => loadCsvData({ path: `data/hospitals/${name}.csv`, label: 'target', testFraction: 0.25, seed: 7, standardize: false }, baseDir);
const fit = { epochs: 1, batchSize: 8, learningRate: 0.1 };

let fed: TestFederation;
afterEach(async () => fed.close());

/** What a curious coordinator keeps from round 0: the federation's mean (float32, as sent back) and its row count. */
async function roundZero(sites: readonly { name: string; data: TrainTest }[]): Promise<{ mean: Float32Array; rows: number }> {
  fed = new TestFederation();
  const { logger, records } = memoryLogger();
  let standardization: Weights | undefined;
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({ minFitClients: sites.length, fit }),
    initialWeights: linearZeros(),
    rounds: 1,
    logger,
    standardizeFeatures: sites[0]!.data.train.featureNames.length,
    onStandardization: (w) => void (standardization = w),
  });
  for (const [i, site] of sites.entries()) {
    const d = linearData(site.data.train.rows, i + 1); // a node announces its training rows at hello
    fed.client(coordinator.url, site.name, new LinearTrainer(d.xs, d.ys, site.name), { logger: silent, scaler: new TabularScaler(site.data, () => undefined) });
  }
  await coordinator.run();
  await fed.close();
  const computed = records.find((r) => r.msg === 'federated standardization computed') as unknown as { rows: number } | undefined;
  return { mean: standardization![0]!.data as Float32Array, rows: computed!.rows };
}

describe('standardization differencing (issue 12, must-show 1)', () => {
  it('before: without DP, two runs that differ by one patient give that patient back from the round-0 statistics', async () => {
    const north = hospital('north');
    const central = hospital('central');
    const south = hospital('south');
    const n = south.train.rows;
    const without = { train: takeRows(south.train, Array.from({ length: n - 1 }, (_, i) => i)), test: south.test };
    const a = await roundZero([{ name: 'north', data: north }, { name: 'central', data: central }, { name: 'south', data: without }]);
    const b = await roundZero([{ name: 'north', data: north }, { name: 'central', data: central }, { name: 'south', data: south }]);
    expect(b.rows).toBe(a.rows + 1);
    const width = south.train.featureNames.length;
    const patient = Array.from(south.train.x.subarray((n - 1) * width, n * width));
    const recovered = patient.map((_, j) => b.rows * b.mean[j]! - a.rows * a.mean[j]!);
    const error = Math.hypot(...recovered.map((v, j) => v - patient[j]!)) / Math.hypot(...patient);
    const worst = Math.max(...patient.map((v, j) => (v === 0 ? 0 : Math.abs(recovered[j]! - v) / Math.abs(v))));
    console.log(
      `standardization differencing, federated standardization without DP: ${width} features of the added patient recovered from ${a.rows} and ${b.rows} rows, ` +
        `relative L2 error ${error.toExponential(2)}, worst feature ${worst.toExponential(2)}`,
    );
    expect(worst).toBeLessThan(1e-2);
    // float32 means of ~470 rows: the recovered record is exact to a few parts in 1e5 (a guess would be off by ~1).
    expect(error).toBeLessThan(1e-3);
  });

  it('after: under DP the moments never leave (refused at start), and public ranges leave nothing to difference', async () => {
    fed = new TestFederation();
    const privacy = { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 };
    await expect(
      fed.coordinator({ strategy: new FedAvg({ minFitClients: 3, fit }), initialWeights: linearZeros(), rounds: 1, logger: silent, privacy, standardizeFeatures: 30 }),
    ).rejects.toThrow(/federated standardization sends each client's exact feature means[\s\S]*scale features from public ranges/);

    // The fix: each site scales from the study's public ranges; the coordinator asks for nothing.
    const experiment = loadConfig(`${baseDir}/private.yaml`, experimentConfigSchema);
    expect(experiment.dpSgd).toBeDefined(); // the shipped private example: DP-SGD with public ranges
    const names = ['north', 'central', 'south'];
    const scaled = names.map((name) => ({ name, data: applyPublicScaling(hospital(name), experiment.publicScaling!) }));
    let momentsAsked = 0;
    const spy = (data: TrainTest): FeatureScaler => {
      const real = new TabularScaler(data, () => undefined);
      return { moments: () => (momentsAsked++, real.moments()), standardize: (m, s) => real.standardize(m, s) };
    };
    let standardized = false;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 3, fit }),
      initialWeights: linearZeros(),
      rounds: 1,
      logger: silent,
      privacy,
      onStandardization: () => void (standardized = true),
    });
    for (const [i, site] of scaled.entries()) {
      const d = linearData(site.data.train.rows, i + 1); // a node announces its training rows at hello
      fed.client(coordinator.url, site.name, new LinearTrainer(d.xs, d.ys, site.name), { logger: silent, scaler: spy(site.data) });
    }
    const run = await coordinator.run();
    expect(run.history).toHaveLength(1);
    expect(run.standardization).toBeUndefined();
    expect(standardized).toBe(false);
    expect(momentsAsked).toBe(0);
    // The scale each site applied is a function of the public ranges alone: with or without the patient, the same map.
    const south = hospital('south');
    const withoutPatient = { train: takeRows(south.train, Array.from({ length: south.train.rows - 1 }, (_, i) => i)), test: south.test };
    expect(applyPublicScaling(withoutPatient, experiment.publicScaling!).test.x).toEqual(applyPublicScaling(south, experiment.publicScaling!).test.x);
  });
});
