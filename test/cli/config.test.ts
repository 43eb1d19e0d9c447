import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientConfigSchema } from '../../src/cli/config/clientConfig.js';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { ConfigError, loadConfig } from '../../src/cli/config/loadConfig.js';
import { runCoordinator } from '../../src/cli/runCoordinator.js';
import { createStrategy } from '../../src/cli/createStrategy.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const valid = `
rounds: 3
model: { type: mlp, hidden: [4] }
strategy: { minFitClients: 2 }
clients:
  - { name: a, data: { path: a.csv, label: y } }
  - { name: b, data: { path: b.csv, label: y } }
`;

describe('experiment configs', () => {
  it('fills defaults for a minimal valid file', () => {
    const c = loadConfig(file('ok.yaml', valid), experimentConfigSchema);
    expect(c.strategy).toMatchObject({ name: 'fedavg', fractionFit: 1, minFitClients: 2 });
    expect(c.training.optimizer).toBe('adam');
    expect(c.standardization).toBe('federated');
    expect(c.coordinator.roundTimeoutSeconds).toBe(120);
  });

  it.each([
    ['a misspelt key', valid.replace('rounds: 3', 'rounds: 3\nrouds: 4'), /\(top level\): Unrecognized key: "rouds"/],
    ['a fraction above 1', valid.replace('minFitClients: 2', 'minFitClients: 2, fractionFit: 1.5'), /strategy\.fractionFit: Too big: expected number to be <=1/],
    ['an unknown strategy', valid.replace('minFitClients: 2', 'minFitClients: 2, name: fedsgd'), /strategy\.name: Invalid option: expected one of "fedavg"\|"fedavgm"\|"fedprox"/],
    ['an unknown backend', `${valid}\nbackend: tpu`, /backend: Invalid option: expected one of "auto"\|"tensorflow-gpu"\|"tensorflow"\|"webgpu"\|"wasm"\|"cpu"/],
    ['too few clients for minFitClients', valid.replace('minFitClients: 2', 'minFitClients: 3'), /clients: 2 clients can never satisfy minAvailableClients\/minFitClients = 3/],
    ['a duplicate client name', valid.replace('name: b', 'name: a'), /clients\.1\.name: client name "a" is used twice/],
    ['rounds missing', valid.replace('rounds: 3', ''), /rounds: Invalid input: expected number/],
  ])('refuses %s, naming the field and what is allowed', (_what, text, message) => {
    const path = file('bad.yaml', text);
    expect(() => loadConfig(path, experimentConfigSchema)).toThrow(ConfigError);
    expect(() => loadConfig(path, experimentConfigSchema)).toThrow(message);
  });

  it('names the file when it is missing or not YAML', () => {
    expect(() => loadConfig(join(dir, 'nope.yaml'), experimentConfigSchema)).toThrow(/cannot read config .*nope\.yaml/);
    expect(() => loadConfig(file('broken.yaml', 'rounds: [1,'), experimentConfigSchema)).toThrow(/broken\.yaml is not valid YAML/);
  });

  it('refuses a coordinator run without model.inputs before opening a port', async () => {
    const c = loadConfig(file('ok.yaml', valid), experimentConfigSchema);
    await expect(runCoordinator(c, () => undefined)).rejects.toThrow(/model\.inputs is required for `cohort coordinator`/);
  });
});

describe('client configs', () => {
  it('requires a coordinator URL and a data section', () => {
    const path = file('client.yaml', 'name: x\ncoordinator: not a url\nmodel: { type: mlp }\n');
    expect(() => loadConfig(path, clientConfigSchema)).toThrow(/coordinator: Invalid URL[\s\S]*data: Invalid input/);
  });

  it('accepts the shipped hospital configs', () => {
    for (const h of ['north', 'central', 'south']) {
      const c = loadConfig(`examples/breast-cancer/distributed/${h}.yaml`, clientConfigSchema);
      expect(c.name).toBe(h);
      expect(c.data).toMatchObject({ standardize: true });
    }
    expect(loadConfig('examples/breast-cancer/distributed/coordinator.yaml', experimentConfigSchema).model.inputs).toBe(30);
  });
});

describe('strategies from the config', () => {
  const base = (strategy: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, strategy: { minFitClients: 5, ...strategy }, ...extra });

  it.each([
    ['fedavg', {}, 'fedavg'],
    ['fedavgm', { serverMomentum: 0.9 }, 'fedavgm'],
    ['fedprox', { proximalMu: 0.01 }, 'fedprox'],
    ['fedadam', { eta: 0.01 }, 'fedadam'],
    ['fedyogi', {}, 'fedyogi'],
    ['fedadagrad', {}, 'fedadagrad'],
    ['fedmedian', {}, 'fedmedian'],
    ['fedtrimmedavg', { trimFraction: 0.1 }, 'fedtrimmedavg'],
    ['krum', { byzantine: 1 }, 'krum'],
    ['krum', { byzantine: 1, keep: 2 }, 'multi-krum'],
    ['bulyan', { byzantine: 0 }, 'bulyan'],
  ])('builds %s %j', (name, options, built) => {
    expect(createStrategy(base({ name, ...options })).name).toBe(built);
  });

  it('says what a robust strategy is missing or cannot combine with', () => {
    expect(() => createStrategy(base({ name: 'krum' }))).toThrow(/strategy\.byzantine .* is required for krum/);
    expect(() => createStrategy(base({ name: 'fedmedian' }, { privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 }, standardization: 'local' }))).toThrow(
      /fedmedian needs every individual update and cannot be combined with privacy/,
    );
    expect(() => createStrategy(base({ name: 'fedprox' }))).toThrow(/strategy\.proximalMu is required for fedprox/);
    expect(() => base({ name: 'scaffold' })).toThrow(/scaffold needs optimizer: sgd/);
  });
});

describe('secure aggregation in the config', () => {
  const parse = (extra: Record<string, unknown>) => () => experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, secureAggregation: 'ckks', ...extra });
  it('refuses, when the config is read, what CKKS cannot do', () => {
    expect(parse({ strategy: { name: 'krum', byzantine: 1 } })).toThrow(/krum cannot run with secureAggregation: ckks/);
    expect(parse({ strategy: { name: 'fedadam' } })).toThrow(/fedadam cannot run with secureAggregation: ckks .*use fedavg, fedprox, fedavgm/);
    // Linear steps and adaptive clipping run under CKKS: the clients apply them, the state rides encrypted.
    expect(parse({ strategy: { name: 'fedavgm', serverLearningRate: 0.5 } })()).toMatchObject({ strategy: { name: 'fedavgm' } });
    expect(parse({ privacy: { clipNorm: { initialClipNorm: 1, countNoiseStd: 1 }, noiseMultiplier: 1, delta: 1e-5 }, standardization: 'local' })()).toMatchObject({ secureAggregation: 'ckks' });
    expect(parse({ privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 }, standardization: 'none' })()).toMatchObject({ secureAggregation: 'ckks' });
    expect(parse({})()).toMatchObject({ secureAggregation: 'ckks' });
  });
});

describe('federated standardization under DP', () => {
  const parse = (extra: Record<string, unknown>) => () => experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, ...extra });
  const privacy = { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 };
  it('is refused with privacy or dpSgd (the per-site moments leave in the clear), naming the fixes', () => {
    const refusal = /federated \(the default\) sends each site's exact feature means, mean squares and row count to the coordinator outside the differential-privacy guarantee .*set standardization: public with publicScaling \(each feature's range from public sources; nothing leaves\), local or none, or accept the leak with coordinator\.acceptRisks: \[feature-moments\]/;
    expect(parse({ privacy })).toThrow(refusal);
    expect(parse({ privacy, standardization: 'federated' })).toThrow(refusal);
    expect(parse({ dpSgd: { clipNorm: 1, delta: 1e-5, noiseMultiplier: 1 } })).toThrow(refusal);
    expect(parse({ privacy, standardization: 'local' })()).toMatchObject({ standardization: 'local' });
    expect(parse({ privacy, standardization: 'none' })()).toMatchObject({ standardization: 'none' });
    expect(parse({ privacy, coordinator: { acceptRisks: ['feature-moments'] } })()).toMatchObject({ standardization: 'federated' });
    expect(parse({})()).toMatchObject({ standardization: 'federated' }); // without DP nothing changes
    const path = file('dp-federated.yaml', `${valid}privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 }\n`);
    expect(() => loadConfig(path, experimentConfigSchema)).toThrow(/standardization: federated \(the default\) sends each site's exact feature means/);
  });
});

describe('standardization from public ranges', () => {
  const parse = (extra: Record<string, unknown>) => () => experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, ...extra });
  const privacy = { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 };
  const publicScaling = { features: { age: { min: 18, max: 100 }, chol: { mean: 220, scale: 60 } } };
  it('runs under privacy and dpSgd, with the ranges in the experiment (clip by default)', () => {
    expect(parse({ privacy, standardization: 'public', publicScaling })()).toMatchObject({ standardization: 'public', publicScaling: { ...publicScaling, outOfRange: 'clip' } });
    expect(parse({ dpSgd: { clipNorm: 1, delta: 1e-5, epsilon: 1 }, standardization: 'public', publicScaling: { ...publicScaling, outOfRange: 'refuse' } })()).toMatchObject({
      publicScaling: { outOfRange: 'refuse' },
    });
  });

  it('refuses public without ranges, ranges without public, and ranges inside the data configs', () => {
    expect(parse({ privacy, standardization: 'public' })).toThrow(/standardization: public needs publicScaling: \{ features: \{ <feature>: \{ min, max \} or \{ mean, scale \}/);
    expect(parse({ standardization: 'local', publicScaling })).toThrow(/publicScaling is used only with standardization: public \(it is local\)/);
    const issues = (extra: Record<string, unknown>) => {
      const r = experimentConfigSchema.safeParse({ rounds: 1, model: { type: 'mlp' }, standardization: 'public', publicScaling, strategy: { minFitClients: 1 }, ...extra });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const inData = 'publicScaling: in an experiment, give publicScaling at the top level with standardization: public (one scaling for every client)';
    expect(issues({ clients: [{ name: 'a', data: { path: 'a.csv', label: 'y', publicScaling } }] })).toEqual([`clients.0.data.${inData}`]);
    expect(issues({ dataDefaults: { publicScaling } })).toEqual([`dataDefaults.${inData}`]);
    expect(parse({ standardization: 'public', publicScaling: { features: { age: { min: 5, max: 1 } } } })).toThrow(/max must be greater than min/);
  });
});
