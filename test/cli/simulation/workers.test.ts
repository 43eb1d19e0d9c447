import { describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../../src/cli/config/experimentConfig.js';
import { simulate, type SimulationResult } from '../../../src/cli/simulate.js';
import type { RoundRecord } from '../../../src/coordinator/roundRecord.js';
import type { Metrics } from '../../../src/coordinator/strategy.js';
import { weightsHash } from '../../../src/coordinator/weightsHash.js';

// Six virtual clients cut from one file, half of them sampled each round, one of them Byzantine: the cohort,
// the attack and every client's training must not depend on which thread hosts the client.
const config = (workers: number) =>
  experimentConfigSchema.parse({
    name: 'workers',
    seed: 5,
    rounds: 3,
    backend: 'wasm',
    logLevel: 'silent',
    model: { type: 'mlp', hidden: [8], outputs: 1 },
    training: { epochs: 1, batchSize: 16, learningRate: 0.02 },
    strategy: { fractionFit: 0.5, fractionEvaluate: 0.5, minFitClients: 3, minAvailableClients: 6 },
    dataDefaults: { path: 'data/breast_cancer.csv', label: 'target', seed: 7 },
    partition: { type: 'iid', clients: 6 },
    byzantine: { clients: 1, attack: { kind: 'scaled', factor: -2 } },
    centralBaseline: false,
    simulation: { workers },
  });

/** Timings differ from run to run; everything else in a round must not. */
function withoutTimings(metrics: Metrics | undefined): Metrics | undefined {
  if (!metrics) return undefined;
  const { trainSeconds: _ignored, ...rest } = metrics;
  return rest;
}

function comparable(r: RoundRecord) {
  const outcomes = (list: RoundRecord['fit']['outcomes']) => [...list].sort((a, b) => (a.client < b.client ? -1 : 1)).map((o) => ({ ...o, metrics: withoutTimings(o.metrics) }));
  return {
    round: r.round,
    attempts: r.attempts,
    fit: { selected: r.fit.selected, outcomes: outcomes(r.fit.outcomes), metrics: withoutTimings(r.fit.metrics) },
    evaluate: r.evaluate ? { loss: r.evaluate.loss, metrics: r.evaluate.metrics, outcomes: outcomes(r.evaluate.outcomes) } : undefined,
    central: r.central,
  };
}

const run = async (workers: number) => {
  const lines: string[] = [];
  const result = await simulate(config(workers), { baseDir: 'examples/breast-cancer', print: (l) => lines.push(l) });
  return { result, lines };
};

describe('simulate() on a worker pool', () => {
  it('gives bit-identical global weights and round records with clients in 2 worker threads as in one thread', async () => {
    const inProcess = await run(0);
    const pooled = await run(2);
    expect(inProcess.lines).toContain("6 clients in the coordinator's thread");
    expect(pooled.lines).toContain('2 worker threads host 6 clients (3 each)');
    const summary = (r: SimulationResult) => ({ pooledAccuracy: r.pooledAccuracy, perClient: r.perClientAccuracy, history: r.run.history.map(comparable) });
    expect(pooled.result.run.history).toHaveLength(3);
    expect(pooled.result.run.history.every((r) => r.fit.selected === 3 && r.fit.outcomes.every((o) => !o.failure))).toBe(true);
    expect(summary(pooled.result)).toEqual(summary(inProcess.result));
    expect(weightsHash(pooled.result.run.weights)).toBe(weightsHash(inProcess.result.run.weights));
    // Not vacuous: training moved the model, and the attacker is among the clients.
    expect(inProcess.lines.some((l) => /^byzantine clients: client-\d \(scaled\)$/.test(l))).toBe(true);
    expect(pooled.result.pooledAccuracy).toBeGreaterThan(0.8);
  });

  it("fails the run with the coordinator's reason, and shuts the pool down, when a pooled client sends garbage", async () => {
    // An attacker scaling by 1e39 sends values beyond the fixed-point sum's range (or past float32's, once that
    // reaches the updates): they are refused, and a round that needs every client fails for good (no retries).
    const broken = experimentConfigSchema.parse({
      ...config(2),
      rounds: 2,
      strategy: { fractionFit: 1, minFitClients: 6, minAvailableClients: 6 },
      coordinator: { maxRoundRetries: 0 },
      byzantine: { clients: 1, attack: { kind: 'scaled', factor: 1e39 } },
    });
    await expect(simulate(broken, { baseDir: 'examples/breast-cancer', print: () => undefined })).rejects.toThrow(/^round \d attempt 1 failed: .*refused \(update not accepted: update (has a non-finite value|value \S+ at parameter \d+ times its weight \d+ leaves the fixed-point range).*giving up after 1 attempts$/);
  });
});
