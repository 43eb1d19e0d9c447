import { describe, expect, it } from 'vitest';
import { FedAvg, StrategyConfigError, type FedAvgOptions } from '../../src/coordinator/strategies/fedAvg.js';
import { FedMedian } from '../../src/coordinator/strategies/fedMedian.js';
import { cohortSize, sampleCohort } from '../../src/coordinator/strategies/sampling.js';
import type { ClientSummary, EvaluateReport, FitReport } from '../../src/coordinator/strategy.js';
import { createSeededRng } from '../../src/protocol/seededRng.js';
import { specOf, type Weights } from '../../src/protocol/tensors.js';

const fit = { epochs: 1, batchSize: 4, learningRate: 0.1 };

function client(name: string, numTrainExamples = 10): ClientSummary {
  return { id: `id-${name}`, name, numTrainExamples, numTestExamples: 5, backend: 'js' };
}

const clients = (n: number) => Array.from({ length: n }, (_, i) => client(`c${i}`));

/** Global [1, 2] as two tensors, so the flat update must be split back in order. */
const globalWeights = (): Weights => [
  { name: 'w', shape: [1], data: Float32Array.from([1]) },
  { name: 'b', shape: [1], data: Float32Array.from([2]) },
];

/** Runs one FedAvg round by hand: A (10 examples) sends [1, 1], B (30 examples) sends [4, -2]. */
async function handRound(strategy: FedAvg, global: Weights) {
  const aggregator = strategy.createAggregator();
  aggregator.bind(specOf(global));
  const round = aggregator.begin(1);
  const a = client('A', 10);
  const b = client('B', 30);
  for (const [c, delta] of [
    [a, [1, 1]],
    [b, [4, -2]],
  ] as const) {
    const sink = await round.accept(c.id, c.numTrainExamples);
    sink.write(0, Float32Array.from(delta));
    sink.commit();
  }
  const reports: FitReport[] = [
    { client: a, numExamples: 10, metrics: { loss: 1, accuracy: 0.5 } },
    { client: b, numExamples: 30, metrics: { loss: 3 } },
  ];
  return strategy.aggregateFit(1, global, round.finish(), reports, []);
}

const flat = (w: Weights) => w.flatMap((t) => Array.from(t.data));

describe('FedAvg', () => {
  it('moves the global model by the example-weighted mean delta (hand computation)', async () => {
    // mean delta = (10 [1, 1] + 30 [4, -2]) / 40 = [3.25, -1.25]; new global = [1, 2] + mean = [4.25, 0.75]
    const global = globalWeights();
    const next = await handRound(new FedAvg({ fit }), global);
    expect(flat(next.weights)).toEqual([4.25, 0.75]);
    expect(specOf(next.weights)).toEqual(specOf(global));
    // Fit metrics are example-weighted too, over the metrics every report carries.
    expect(next.metrics).toEqual({ loss: 2.5 });
    // The caller's weights are not mutated.
    expect(flat(global)).toEqual([1, 2]);
  });

  it('scales the mean delta by serverLearningRate', async () => {
    const next = await handRound(new FedAvg({ fit, serverLearningRate: 0.5 }), globalWeights());
    expect(flat(next.weights)).toEqual([1 + 0.5 * 3.25, 2 - 0.5 * 1.25]);
    const big = await handRound(new FedAvg({ fit, serverLearningRate: 2 }), globalWeights());
    expect(flat(big.weights)).toEqual([7.5, -0.5]);
  });

  it('keeps the global model when no update arrived', () => {
    const global = globalWeights();
    const next = new FedAvg({ fit }).aggregateFit(1, global, { mean: undefined, totalWeight: 0, contributors: [] }, [], []);
    expect(next.weights).toBe(global);
    expect(next.metrics).toEqual({});
  });

  it('asks a fraction of the clients to train, at least minFitClients, with its fit instructions', () => {
    const strategy = new FedAvg({ fit, fractionFit: 0.3, minFitClients: 2 });
    const tasks = strategy.configureFit(1, clients(10), createSeededRng(5));
    expect(tasks).toHaveLength(3);
    expect(new Set(tasks.map((t) => t.client.id)).size).toBe(3);
    for (const t of tasks) expect(t.instructions).toEqual(fit);
    expect(strategy.configureFit(1, clients(4), createSeededRng(5))).toHaveLength(2);
  });

  it('evaluates on a fraction of clients, or on none when fractionEvaluate is 0', () => {
    const strategy = new FedAvg({ fit, fractionEvaluate: 0.5, minEvaluateClients: 1, evaluateBatchSize: 32 });
    const tasks = strategy.configureEvaluate(1, clients(6), createSeededRng(1));
    expect(tasks).toHaveLength(3);
    for (const t of tasks) expect(t.batchSize).toBe(32);
    expect(new FedAvg({ fit, fractionEvaluate: 0 }).configureEvaluate(1, clients(6), createSeededRng(1))).toEqual([]);
  });

  it('averages evaluation losses and shared metrics by example count', () => {
    const reports: EvaluateReport[] = [
      { client: client('a'), numExamples: 1, loss: 4, metrics: { acc: 0.25, auc: 0.9 } },
      { client: client('b'), numExamples: 3, loss: 0, metrics: { acc: 0.75 } },
    ];
    expect(new FedAvg({ fit }).aggregateEvaluate(1, reports, [])).toEqual({ loss: 1, metrics: { acc: 0.625 } });
    expect(new FedAvg({ fit }).aggregateEvaluate(1, [], [])).toEqual({ loss: undefined, metrics: {} });
  });

  it('runs the central evaluation callback when given one', async () => {
    const seen: number[] = [];
    const strategy = new FedAvg({
      fit,
      evaluateFn: async (round, weights) => {
        seen.push(round, weights.length);
        return { loss: 0.25, metrics: {} };
      },
    });
    expect(await strategy.evaluate(3, globalWeights())).toEqual({ loss: 0.25, metrics: {} });
    expect(seen).toEqual([3, 2]);
    expect(await new FedAvg({ fit }).evaluate(3, globalWeights())).toBeUndefined();
  });

  it('uses its aggregationSlots for the streaming mean it creates', async () => {
    const aggregator = new FedAvg({ fit, aggregationSlots: 1 }).createAggregator();
    aggregator.bind(specOf(globalWeights()));
    const round = aggregator.begin(1);
    await round.accept('a', 1);
    let second = false;
    void round.accept('b', 1).then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false); // one slot, still held by 'a'
  });

  it('defaults minAvailableClients and minEvaluateClients to minFitClients', () => {
    const s = new FedAvg({ fit, minFitClients: 3 });
    expect(s.minAvailableClients).toBe(3);
    expect(s.minEvaluateClients).toBe(3);
    expect(new FedAvg({ fit }).minFitClients).toBe(2);
  });

  describe('option validation', () => {
    const bad: [string, Partial<FedAvgOptions>, RegExp][] = [
      ['fractionFit above 1', { fractionFit: 1.5 }, /fractionFit must be within \[0, 1\], got 1.5/],
      ['fractionFit below 0', { fractionFit: -0.1 }, /fractionFit must be within \[0, 1\], got -0.1/],
      ['fractionFit NaN', { fractionFit: NaN }, /fractionFit must be within \[0, 1\], got NaN/],
      ['fractionEvaluate above 1', { fractionEvaluate: 2 }, /fractionEvaluate must be within \[0, 1\]/],
      ['minFitClients 0', { minFitClients: 0 }, /minFitClients must be an integer >= 1, got 0/],
      ['minFitClients fractional', { minFitClients: 1.5 }, /minFitClients must be an integer >= 1/],
      ['minEvaluateClients negative', { minEvaluateClients: -1 }, /minEvaluateClients must be an integer >= 0/],
      ['minAvailableClients below minFitClients', { minFitClients: 3, minAvailableClients: 2 }, /minAvailableClients \(2\) must be at least minFitClients \(3\)/],
      ['evaluateBatchSize 0', { evaluateBatchSize: 0 }, /evaluateBatchSize must be an integer >= 1/],
      ['serverLearningRate 0', { serverLearningRate: 0 }, /serverLearningRate must be positive, got 0/],
      ['serverLearningRate NaN', { serverLearningRate: NaN }, /serverLearningRate must be positive/],
    ];
    for (const [what, options, message] of bad) {
      it(`refuses ${what}`, () => {
        expect(() => new FedAvg({ fit, ...options })).toThrow(StrategyConfigError);
        expect(() => new FedAvg({ fit, ...options })).toThrow(message);
      });
    }

    it('accepts the boundaries', () => {
      expect(() => new FedAvg({ fit, fractionFit: 0, fractionEvaluate: 1, minEvaluateClients: 0, minFitClients: 1, minAvailableClients: 1 })).not.toThrow();
    });
  });
});

describe("FedAvg's aggregation option", () => {
  const fit = { epochs: 1, batchSize: 8, learningRate: 0.1 };
  it('configures the streaming mean it makes, and refuses a combination that cannot work when the strategy is made', async () => {
    expect(() => new FedAvg({ fit, aggregation: { staging: 'memory', sumAt: 'close' } })).toThrow(/sumAt: 'close' reads committed updates back from their files/);
    expect(() => new FedAvg({ fit, aggregationSlots: 0 })).toThrow(/slots must be a positive integer, got 0/);
    expect(() => new FedMedian({ fit, aggregation: { stagingDir: '/var/tmp' } })).toThrow(StrategyConfigError);
    // Its options reach every round's mean: a missing stagingDir is where the first file-staged update fails.
    const mean = new FedAvg({ fit, aggregation: { staging: 'file', stagingDir: '/no/such/cohort/dir' } }).createAggregator();
    mean.bind([{ name: 'w', shape: [1000] }]);
    await expect(mean.begin(1).accept('a', 1)).rejects.toThrow(/creating a staging file in \/no\/such\/cohort\/dir failed/);
  });
});

describe('cohort sampling', () => {
  it('cohortSize: a fraction of the available clients rounded up, at least the minimum, at most all', () => {
    expect(cohortSize(10, 0.25, 1)).toBe(3); // ceil(2.5)
    expect(cohortSize(10, 0.25, 5)).toBe(5); // the minimum wins
    expect(cohortSize(3, 0.1, 5)).toBe(3); // never more than are available
    expect(cohortSize(10, 1, 2)).toBe(10);
    expect(cohortSize(10, 0, 2)).toBe(2);
    expect(cohortSize(0, 0.5, 2)).toBe(0);
    expect(cohortSize(100, 0.1, 1)).toBe(10);
  });

  it('sampleCohort draws distinct clients, the same ones for the same seed, without mutating its input', () => {
    const pool = clients(20);
    const before = pool.map((c) => c.id);
    const a = sampleCohort(pool, 0.25, 2, createSeededRng(42));
    const b = sampleCohort(pool, 0.25, 2, createSeededRng(42));
    expect(a).toHaveLength(5);
    expect(new Set(a.map((c) => c.id)).size).toBe(5);
    for (const c of a) expect(pool).toContain(c);
    expect(b.map((c) => c.id)).toEqual(a.map((c) => c.id));
    expect(pool.map((c) => c.id)).toEqual(before);
  });

  it('sampleCohort differs across seeds and reaches every client over many seeds', () => {
    const pool = clients(20);
    const cohorts = Array.from({ length: 40 }, (_, seed) => sampleCohort(pool, 0.25, 1, createSeededRng(seed)).map((c) => c.name).join(','));
    expect(new Set(cohorts).size).toBeGreaterThan(30);
    const seen = new Set(cohorts.flatMap((c) => c.split(',')));
    expect(seen.size).toBe(20);
  });

  it('sampleCohort takes everyone when the minimum exceeds the pool', () => {
    const pool = clients(3);
    const cohort = sampleCohort(pool, 0.1, 5, createSeededRng(1));
    expect(cohort.map((c) => c.id).sort()).toEqual(pool.map((c) => c.id).sort());
  });
});
