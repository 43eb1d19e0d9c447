import type { TabularData, TrainTest } from '../client/data/index.js';
import type { ModelSpec } from '../client/model/modelSpec.js';
import { buildModelAsync } from '../client/model/buildModel.js';
import { createTabularTrainer } from '../client/tabularTrainer.js';
import type { EvaluateOutcome } from '../client/trainer.js';

/** Stacks tables with the same features into one. */
export function concatTables(tables: readonly TabularData[]): TabularData {
  const rows = tables.reduce((s, t) => s + t.rows, 0);
  const width = tables[0]!.featureNames.length;
  const x = new Float32Array(rows * width);
  const y = new Float32Array(rows);
  let at = 0;
  for (const t of tables) {
    x.set(t.x, at * width);
    y.set(t.y, at);
    at += t.rows;
  }
  return { x, y, rows, featureNames: tables[0]!.featureNames };
}

/** Stacks several clients' tables (same features) into one: the pooled data a central baseline trains on. */
export function poolData(parts: readonly TrainTest[]): TrainTest {
  return { train: concatTables(parts.map((p) => p.train)), test: concatTables(parts.map((p) => p.test)) };
}

/** Trains one model on the pooled training rows with the same architecture and optimizer, then tests it. */
export async function trainCentralBaseline(options: {
  model: ModelSpec;
  pooled: TrainTest;
  optimizer: 'sgd' | 'adam';
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
}): Promise<EvaluateOutcome> {
  const prebuilt = options.model.type === 'file' ? await buildModelAsync(options.model, options.pooled.train.featureNames.length, options.seed) : undefined;
  const trainer = createTabularTrainer({ model: options.model, data: options.pooled, optimizer: options.optimizer, seed: options.seed, ...(prebuilt ? { prebuilt } : {}) });
  await trainer.fit({ round: 1, epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate });
  return trainer.evaluate({ round: 1, batchSize: 1024 });
}
