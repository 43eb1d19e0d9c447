import { describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { simulate } from '../../src/cli/simulate.js';

const base = {
  name: 'bc-compression',
  seed: 3,
  rounds: 2,
  backend: 'cpu',
  logLevel: 'silent',
  model: { type: 'mlp', hidden: [8], outputs: 1 },
  training: { epochs: 1, batchSize: 16, learningRate: 0.01 },
  strategy: { minFitClients: 3 },
  dataDefaults: { label: 'target', testFraction: 0.25, seed: 7 },
  clients: ['north', 'central', 'south'].map((name) => ({ name, data: { path: `data/hospitals/${name}.csv` } })),
  centralBaseline: false,
} as const;

describe('compression: in an experiment config', () => {
  it('is read, checked with the reason, and reaches the coordinator and every client of a simulation', async () => {
    const refused = experimentConfigSchema.safeParse({ ...base, compression: { method: 'topk', fraction: 0.8 } });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toMatch(/fraction must be at most 0.5: above it a top-k upload \(8 bytes a kept value\) outweighs the dense float32 one/);
    expect(experimentConfigSchema.safeParse({ ...base, compression: { method: 'int8', fraction: 0.1 } }).success).toBe(false);
    expect(experimentConfigSchema.safeParse({ ...base, compression: { method: 'int8', deflate: 'yes' } }).success).toBe(false);
    expect(experimentConfigSchema.parse({ ...base, compression: { method: 'int8', deflate: true } }).compression).toEqual({ method: 'int8', deflate: true });
    const lines: string[] = [];
    const result = await simulate(experimentConfigSchema.parse({ ...base, compression: { method: 'topk', fraction: 0.25 } }), { baseDir: 'examples/breast-cancer', print: (l) => lines.push(l) });
    expect(lines.some((l) => /plain aggregation, topk compression$/.test(l))).toBe(true);
    // The coordinator refuses an uncompressed upload in a compressed run: every update arrived as top-k.
    expect(result.run.history.map((r) => r.fit.outcomes.filter((o) => !o.failure).length)).toEqual([3, 3]);
    await expect(simulate(experimentConfigSchema.parse({ ...base, secureAggregation: 'secaggplus', compression: { method: 'int8' } }), { baseDir: 'examples/breast-cancer', print: () => undefined })).rejects.toThrow(
      /compression cannot run with secureAggregation: secaggplus/,
    );
  });
});
