import * as tf from '@tensorflow/tfjs';
import { eventLoopYielder } from './eventLoopYield.js';
import type { ExampleSource } from './exampleSource.js';
import type { EvaluateConfig, EvaluateOutcome } from './trainer.js';
import { checkBatchSize, type TfjsTrainerOptions } from './tfjsTrainerOptions.js';

/** Evaluates the model on this site's held-out rows, batch by batch: loss, and accuracy when asked for. */
export async function evaluateModel(
  options: Pick<TfjsTrainerOptions, 'model' | 'loss' | 'accuracy'>,
  test: ExampleSource | undefined,
  config: EvaluateConfig,
): Promise<EvaluateOutcome> {
  const { model } = options;
  if (!test || test.rows === 0) throw new Error('this client has no held-out data to evaluate on');
  checkBatchSize(config.batchSize);
  if (!model.optimizer) {
    // compile wants an optimizer, evaluate never steps it: freed at once, so it holds no tensor between rounds.
    const unused = tf.train.sgd(0);
    model.compile({ optimizer: unused, loss: options.loss, metrics: options.accuracy ? ['accuracy'] : [] });
    unused.dispose();
  }
  // Batch by batch, yielding between batches: a CNN's test pass can take seconds, and sockets must be served.
  const n = test.rows;
  const pause = eventLoopYielder();
  let lossSum = 0;
  let accuracySum: number | undefined;
  for (let start = 0; start < n; start += config.batchSize) {
    const size = Math.min(config.batchSize, n - start);
    const b = await test.batch(Array.from({ length: size }, (_, i) => start + i));
    let loss: number | undefined;
    let accuracy: number | undefined;
    try {
      [loss, accuracy] = scalars(model.evaluate(b.x, b.y, { batchSize: size }) as tf.Scalar | tf.Scalar[]);
    } finally {
      b.dispose();
    }
    lossSum += loss! * size;
    if (accuracy !== undefined) accuracySum = (accuracySum ?? 0) + accuracy * size;
    await pause();
  }
  const metrics: Record<string, number> = {};
  if (options.accuracy && accuracySum !== undefined) metrics.accuracy = accuracySum / n;
  return { numExamples: n, loss: lossSum / n, metrics };
}

function scalars(value: tf.Scalar | tf.Scalar[]): number[] {
  const list = Array.isArray(value) ? value : [value];
  const out = list.map((s) => s.dataSync()[0]!);
  list.forEach((s) => s.dispose());
  return out;
}
