import { subtractWeights } from '../weightDelta.js';
import type { FitTaskContext, TrainedUpdate } from './fitChain.js';

/** The innermost step: train from the downloaded model and return delta = local - global, with the training time. */
export async function trainAndSubtract(task: FitTaskContext): Promise<TrainedUpdate> {
  await task.trainer.setWeights(task.download);
  const started = performance.now();
  const outcome = await task.trainer.fit(task.config);
  // Training time travels with the metrics so the coordinator can split a round's time.
  const metrics = { ...outcome.metrics, trainSeconds: (performance.now() - started) / 1000 };
  const local = await task.trainer.getWeights();
  return { global: task.download, delta: subtractWeights(local, task.download), numExamples: outcome.numExamples, metrics };
}
