import { describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { simulate } from '../../src/cli/simulate.js';
import { loadCsvData } from '../../src/client/data/index.js';
import { loadConfig } from '../../src/cli/config/loadConfig.js';

const base = {
  name: 'bc-test',
  seed: 3,
  rounds: 3,
  backend: 'cpu',
  logLevel: 'silent',
  model: { type: 'mlp', hidden: [8], outputs: 1 },
  training: { epochs: 1, batchSize: 16, learningRate: 0.01 },
  strategy: { minFitClients: 3 },
  dataDefaults: { label: 'target', testFraction: 0.25, seed: 7 },
  clients: ['north', 'central', 'south'].map((name) => ({ name, data: { path: `data/hospitals/${name}.csv` } })),
  centralBaseline: { epochs: 3 },
} as const;
const baseDir = 'examples/breast-cancer';

describe('simulate()', () => {
  it('runs the breast-cancer federation with federated standardization computed from all training rows', async () => {
    const lines: string[] = [];
    const result = await simulate(experimentConfigSchema.parse(base), { baseDir, print: (l) => lines.push(l) });
    expect(result.run.history).toHaveLength(3);
    expect(result.pooledAccuracy).toBeGreaterThan(0.9);
    expect(result.centralAccuracy).toBeGreaterThan(0.85);
    expect(Object.keys(result.perClientAccuracy).sort()).toEqual(['central', 'north', 'south']);
    // The federation's mean is the mean over every client's raw training rows, not any one client's.
    const raw = base.clients.map((c) => loadCsvData({ path: c.data.path, label: 'target', testFraction: 0.25, seed: 7, standardize: false }, baseDir).train);
    const rows = raw.reduce((s, t) => s + t.rows, 0);
    const width = raw[0]!.featureNames.length;
    let sum = 0;
    for (const t of raw) for (let r = 0; r < t.rows; r++) sum += t.x[r * width]!;
    expect(result.run.standardization![0]!.data[0]).toBeCloseTo(sum / rows, 3);
    expect(lines.some((l) => /^round 1\/3 {2}clients 3\/3 {2}train loss \d\.\d{4} {2}fed loss \d\.\d{4} {2}fed acc \d\.\d{4} {2}pooled acc \d\.\d{4} {2}\d+\.\d\d s \(train \d+\.\d\d, transfer \d+\.\d\d, aggregate \d+\.\d{3}\)$/.test(l))).toBe(true);
    // Bytes counted on the coordinator's sockets: framing, control and the handshakes add to the payloads.
    const traffic = lines.find((l) => l.startsWith('bytes on the socket: '));
    const parsed = /^bytes on the socket: ([\d.]+) (kB|MB) \([\d.]+ (?:kB|MB) received, [\d.]+ (?:kB|MB) sent\) in 3 rounds \([\d.]+ (?:kB|MB) a round\); model payloads ([\d.]+) (kB|MB) of it$/.exec(traffic ?? '');
    expect(parsed, traffic).not.toBeNull();
    const kb = (n: string, unit: string) => Number(n) * (unit === 'MB' ? 1000 : 1);
    expect(kb(parsed![1]!, parsed![2]!)).toBeGreaterThan(kb(parsed![3]!, parsed![4]!));
    expect(result.bytesOnWire).toBeGreaterThan(0);
    expect(lines.some((l) => /central baseline, same split: +accuracy \d+\.\d\d% +\(federated - central: [+-]\d+\.\d\d points\)/.test(l))).toBe(true);
  });

  it('skips the statistics step with local standardization and refuses mismatched client columns', async () => {
    const local = await simulate(experimentConfigSchema.parse({ ...base, rounds: 1, standardization: 'local', centralBaseline: false }), { baseDir, print: () => undefined });
    expect(local.run.standardization).toBeUndefined();
    expect(local.centralAccuracy).toBeUndefined();
    const mismatched = { ...base, clients: [...base.clients.slice(0, 2), { name: 'south', data: { path: 'data/hospitals/south.csv', features: ['mean_radius'] } }] };
    await expect(simulate(experimentConfigSchema.parse(mismatched), { baseDir, print: () => undefined })).rejects.toThrow(/^client south: 1 feature column, the study has 30: missing 'mean_texture', 'mean_perimeter', 'mean_area', 'mean_smoothness', 'mean_compactness' and 24 more against north's columns: every client must produce the same columns$/);
  });
});

describe('simulate() over a partitioned dataset', () => {
  it('deals every row of one file to virtual clients with the configured label skew, and trains', async () => {
    const lines: string[] = [];
    const config = experimentConfigSchema.parse({
      ...base,
      clients: undefined,
      rounds: 2,
      strategy: { minFitClients: 4, minAvailableClients: 8, fractionFit: 0.5 },
      dataDefaults: { path: 'data/breast_cancer.csv', label: 'target', seed: 7 },
      partition: { type: 'shards', clients: 8, shardsPerClient: 1 },
      centralBaseline: false,
    });
    const result = await simulate(config, { baseDir, print: (l) => lines.push(l) });
    const described = lines.filter((l) => /^client-\d: \d+ rows; \d of 2 labels/.test(l));
    expect(described).toHaveLength(8);
    // One shard each of a label-sorted table: every client holds a single label but one (a shard straddles).
    expect(described.filter((l) => /; 1 of 2 labels/.test(l)).length).toBeGreaterThanOrEqual(7);
    const rows = described.reduce((s, l) => s + Number(/: (\d+) rows/.exec(l)![1]), 0);
    expect(rows).toBe(569);
    expect(result.run.history).toHaveLength(2);
    expect(result.run.history.every((r) => r.fit.selected === 4)).toBe(true);
  });

  it('refuses clients and partition together', () => {
    expect(() => experimentConfigSchema.parse({ ...base, partition: { type: 'iid', clients: 3 } })).toThrow(/give either clients .* or partition/);
  });
});

describe('simulate() with DP-SGD under CKKS', () => {
  it('runs record-level DP at every client while the coordinator only adds ciphertexts, and reports each epsilon', async () => {
    const lines: string[] = [];
    const config = experimentConfigSchema.parse({
      ...base,
      rounds: 2,
      secureAggregation: 'ckks',
      training: { epochs: 1, batchSize: 16, learningRate: 0.05, optimizer: 'sgd' },
      dpSgd: { clipNorm: 1, delta: 1e-5, epsilon: 2 },
      standardization: 'local', // federated moments would leave outside the record-level guarantee
      centralBaseline: false,
    });
    const result = await simulate(config, { baseDir, print: (l) => lines.push(l) });
    expect(result.run.weights).toEqual([]); // the coordinator holds no model
    expect(result.run.encryptedModel).toBeDefined();
    for (const r of result.run.history) {
      for (const o of r.fit.outcomes) {
        expect(o.metrics?.dpSgdEpsilon).toBeGreaterThan(0);
        expect(o.metrics!.dpSgdEpsilon!).toBeLessThanOrEqual(2 + 1e-9);
      }
    }
    // After the last round each client has spent its whole planned budget.
    expect(result.run.history[1]!.fit.outcomes.every((o) => Math.abs(o.metrics!.dpSgdEpsilon! - 2) < 1e-6)).toBe(true);
    expect(lines.some((l) => /^round 2\/2 .* record-level epsilon <= 2\.000/.test(l))).toBe(true);
    expect(lines).toContain("standardization: local fits each client's mean and std on its own rows, outside DP-SGD's accounting (one record moves every scaled row); standardization: public or none keeps the whole pipeline under the guarantee");
    // Accuracy after two noisy rounds varies with the CSPRNG's draws; it is not what this test pins.
    expect(Number.isFinite(result.pooledAccuracy)).toBe(true);
  });
});

describe('simulate() with features scaled from public ranges (examples/breast-cancer/private.yaml)', () => {
  it('runs DP without a statistics round, each client clipping and counting the values outside a range', async () => {
    const shipped = loadConfig(`${baseDir}/private.yaml`, experimentConfigSchema);
    const lines: string[] = [];
    // A narrower mean_radius range than the shipped one, so that some rows (radius above 20) get clipped.
    const features = { ...shipped.publicScaling!.features, mean_radius: { min: 6, max: 20 } };
    const config = experimentConfigSchema.parse({ ...shipped, rounds: 2, backend: 'cpu', logLevel: 'silent', centralBaseline: { epochs: 2 }, publicScaling: { features } });
    const result = await simulate(config, { baseDir, print: (l) => lines.push(l) });
    expect(result.run.standardization).toBeUndefined(); // no round 0: no moments asked, none sent
    expect(lines.some((l) => /federated standardization/.test(l))).toBe(false);
    expect(lines.some((l) => /, public standardization, plain aggregation$/.test(l))).toBe(true);
    expect(lines.some((l) => /outside DP-SGD's accounting/.test(l))).toBe(false);
    const radiusOver20 = ['north', 'central', 'south'].map((name) => {
      const raw = loadCsvData({ path: `data/hospitals/${name}.csv`, label: 'target', testFraction: 0.25, seed: 7, standardize: false }, baseDir);
      const count = (t: typeof raw.train) => Array.from({ length: t.rows }, (_, r) => t.x[r * t.featureNames.length]!).filter((v) => v > 20).length;
      return { name, count: count(raw.train) + count(raw.test) };
    });
    expect(radiusOver20.some((c) => c.count > 0)).toBe(true);
    for (const { name, count } of radiusOver20) {
      const line = `client ${name}: values outside their public range clipped to it (mean_radius ${count})`;
      if (count > 0) expect(lines).toContain(line);
      else expect(lines.some((l) => l.startsWith(`client ${name}: values outside`))).toBe(false);
    }
    for (const o of result.run.history[1]!.fit.outcomes) expect(o.metrics!.dpSgdEpsilon!).toBeCloseTo(3, 6);
    expect(Number.isFinite(result.pooledAccuracy)).toBe(true);
    // The private run's config refuses federated standardization, and names this fix.
    expect(() => experimentConfigSchema.parse({ ...shipped, standardization: 'federated', publicScaling: undefined })).toThrow(/set standardization: public with publicScaling/);
  });
});
