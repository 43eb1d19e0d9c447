import * as tf from '@tensorflow/tfjs';
import type { DpSgdOptions } from './dpSgd.js';
import type { ExampleSource, LabelledTensors } from './exampleSource.js';

/** Losses TfjsTrainer compiles with: binary or categorical cross-entropy, or mean squared error. */
export type TfjsLoss = 'binaryCrossentropy' | 'categoricalCrossentropy' | 'meanSquaredError';
/** Built-in optimizers: plain SGD or Adam. */
export type TfjsOptimizerName = 'sgd' | 'adam';

/** The model, its data and how to train it. */
export interface TfjsTrainerOptions {
  /** The model; its weights are what the federation trains. */
  readonly model: tf.LayersModel;
  /** This site's training rows: tensors in memory, or a source that produces batches on demand (image files decoded a batch at a time). */
  readonly train: LabelledTensors | ExampleSource;
  /** This site's held-out rows, in memory or as a source (without them, `evaluate` throws saying so). */
  readonly test?: LabelledTensors | ExampleSource;
  /** The training loss. */
  readonly loss: TfjsLoss;
  /** Reported as `accuracy` in fit and evaluate metrics when true (classification). */
  readonly accuracy?: boolean;
  /** `sgd` (default), `adam`, or a factory taking the round's learning rate. */
  readonly optimizer?: TfjsOptimizerName | ((learningRate: number) => tf.Optimizer);
  /** Reported in hello for the run's manifest (a schema hash, never data). */
  readonly datasetFingerprint?: string;
  /** Seeds the batch order of every round (with the round number), for reproducible runs. */
  readonly seed?: number;
  /**
   * Example-level DP-SGD (see dpSgd.ts): Poisson-sampled batches at q = batchSize / n drawn from node:crypto
   * (so `seed` no longer fixes them), per-example clipping to `clipNorm`, Gaussian noise, and this trainer's own
   * RDP accountant across rounds. Fit metrics then carry the record-level guarantee (`dpSgdEpsilon` at
   * `dpSgdDelta`, ...) instead of the training loss and accuracy, which are not private.
   */
  readonly dpSgd?: DpSgdOptions;
}

export function makeOptimizer(choice: TfjsTrainerOptions['optimizer'], learningRate: number): tf.Optimizer {
  if (typeof choice === 'function') return choice(learningRate);
  return choice === 'adam' ? tf.train.adam(learningRate) : tf.train.sgd(learningRate);
}

/** The learning rate of a plain SGD optimizer (not momentum, not adaptive); undefined for any other kind. */
export function sgdLearningRate(optimizer: tf.Optimizer): number | undefined {
  if (optimizer.getClassName() !== 'SGD') return undefined;
  const rate = optimizer.getConfig().learningRate;
  return typeof rate === 'number' ? rate : undefined;
}

/** A batch of 0 (or a fraction, NaN) would never advance through the rows: refused, naming the value. */
export function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a whole number of examples >= 1, got ${String(batchSize)}`);
}
