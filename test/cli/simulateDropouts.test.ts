import { describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { simulate } from '../../src/cli/simulate.js';
import { dropoutSchedule } from '../../src/client/dropouts/dropoutSchedule.js';

const baseDir = 'examples/breast-cancer';
const config = (secureAggregation: 'plain' | 'secaggplus') =>
  experimentConfigSchema.parse({
    name: 'bc-dropouts',
    seed: 5,
    rounds: 2,
    backend: 'cpu',
    logLevel: 'silent',
    model: { type: 'mlp', hidden: [8], outputs: 1 },
    training: { epochs: 1, batchSize: 16, learningRate: 0.01 },
    strategy: { minFitClients: 9, minAvailableClients: 10, fractionFit: 1, fractionEvaluate: 0 },
    dataDefaults: { path: 'data/breast_cancer.csv', label: 'target', seed: 7 },
    partition: { type: 'iid', clients: 10 },
    centralBaseline: false,
    secureAggregation,
    // 10 clients, 7 revealing: 8 neighbours of 9 keep at least 5 revealers, the least t above 4.
    ...(secureAggregation === 'secaggplus' ? { secaggplus: { neighbours: 8, threshold: 5 } } : {}),
    dropouts: { beforeUpload: 0.1, afterUpload: 0.2 },
    simulation: { workers: 0 },
  });

describe('simulate() with dropouts:', () => {
  it('the clients the seeded plan names leave each round; the ones that left after uploading still count, under plain and secaggplus', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `client-${i}`);
    const plan = dropoutSchedule(names, { beforeUpload: 0.1, afterUpload: 0.2, seed: 5 });
    for (const mode of ['plain', 'secaggplus'] as const) {
      const lines: string[] = [];
      const result = await simulate(config(mode), { baseDir, print: (l) => lines.push(l) });
      expect(lines).toContain('dropouts: 1 clients leave before uploading and 2 just after, a fresh draw every round (seed 5)');
      expect(result.run.history).toHaveLength(2);
      for (const record of result.run.history) {
        const failed = record.fit!.outcomes.filter((o) => 'failure' in o && o.failure !== undefined).map((o) => o.client);
        // Only the client that left before uploading is missing; the two that left after are in the aggregate.
        expect(failed, `${mode} round ${record.round}`).toEqual([...plan.at(record.round).beforeUpload]);
      }
    }
  }, 240_000);

  it('refuses fractions that add up to more than every client', () => {
    expect(() => experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, dropouts: { beforeUpload: 0.6, afterUpload: 0.5 } })).toThrow(/must not exceed 1/);
  });
});
