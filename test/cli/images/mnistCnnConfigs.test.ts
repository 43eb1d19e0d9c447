import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../../src/cli/config/experimentConfig.js';
import { loadConfig } from '../../../src/cli/config/loadConfig.js';
import { buildModel } from '../../../src/client/model/buildModel.js';
import { repoRoot } from '../../helpers/cli.js';

const folder = join(repoRoot, 'examples/mnist-cnn');

describe('examples/mnist-cnn: one config per mode, the same CNN in each', () => {
  it('parses every config, each names its mode, and each builds the 1,663,370-parameter CNN', () => {
    const files = readdirSync(folder).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(['experiment-ckks.yaml', 'experiment-dpsgd.yaml', 'experiment-secaggplus.yaml', 'experiment.yaml']);
    const configs = Object.fromEntries(files.map((f) => [f, loadConfig(join(folder, f), experimentConfigSchema)]));
    expect(files.map((f) => [configs[f]!.secureAggregation, configs[f]!.dpSgd !== undefined])).toEqual([
      ['ckks', false],
      ['plain', true],
      ['secaggplus', false],
      ['plain', false],
    ]);
    for (const f of files) {
      const model = buildModel(configs[f]!.model, 784, configs[f]!.seed);
      expect(model.countParams()).toBe(1_663_370);
      model.dispose();
    }
  });
});
