import * as tf from '@tensorflow/tfjs';
import { perExampleLoss } from './dpSgd.js';

/** One optimizer step on a batch; returns [loss, accuracy] as trainOnBatch reports them (accuracy when asked for). */
export type BatchStep = (x: tf.Tensor, y: tf.Tensor) => Promise<number[]>;

/** What a round's steps train with. */
export interface BatchStepOptions {
  readonly model: tf.LayersModel;
  readonly loss: 'binaryCrossentropy' | 'categoricalCrossentropy' | 'meanSquaredError';
  readonly accuracy: boolean;
  /** The round's optimizer; the caller owns (and disposes) it. */
  readonly optimizer: tf.Optimizer;
}

/**
 * A round's training step: the math of `model.compile(...)` then `model.trainOnBatch(x, y)`, without their
 * per-call set-up. trainOnBatch re-validates the data, rebuilds its train function and walks the symbolic graph
 * on every batch, and compile (needed each round for the round's fresh optimizer) rebuilds a Sequential's inner
 * model: on a small model that overhead rivals the kernels themselves, and it is paid per batch and per client.
 *
 * The step is the one trainOnBatch takes: minimize(mean(loss(y, model(x, training))) + the layers' regularizer
 * penalties) over the trainable weights, with the accuracy tfjs's compile picks for the loss (binary for one
 * output or binary cross-entropy, else categorical), so the weights come out bit-identical. A model with several
 * inputs or outputs, or a batch whose shape is not the model's, goes through compile and trainOnBatch as before
 * (their validation and errors included).
 */
export function batchStep(options: BatchStepOptions): BatchStep {
  const { model, optimizer } = options;
  const lossOf = perExampleLoss(options.loss);
  const outputShape = model.outputs.length === 1 ? model.outputs[0]!.shape : undefined;
  const accuracyOf = !options.accuracy || !outputShape ? undefined : outputShape[outputShape.length - 1] === 1 || options.loss === 'binaryCrossentropy' ? tf.metrics.binaryAccuracy : tf.metrics.categoricalAccuracy;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let compiled = false;
  const viaTrainOnBatch: BatchStep = async (x, y) => {
    if (!compiled) model.compile({ optimizer, loss: options.loss, metrics: options.accuracy ? ['accuracy'] : [] });
    compiled = true;
    const out = await model.trainOnBatch(x, y);
    return Array.isArray(out) ? out : [out];
  };
  if (model.inputs.length !== 1 || !outputShape) return viaTrainOnBatch;
  const inputShape = model.inputs[0]!.shape;
  return (x, y) => {
    if (!fits(x.shape, inputShape) || !fits(y.shape, outputShape)) return viaTrainOnBatch(x, y);
    let accuracy: tf.Tensor | undefined;
    const cost = optimizer.minimize(
      () => {
        const predicted = model.apply(x, { training: true }) as tf.Tensor;
        if (accuracyOf) accuracy = tf.keep(tf.mean(accuracyOf(y, predicted)));
        let total = tf.mean(lossOf(y, predicted));
        for (const penalty of model.calculateLosses()) total = tf.add(total, penalty);
        return total as tf.Scalar;
      },
      true,
      variables,
    )!;
    try {
      return Promise.resolve(accuracy ? [cost.dataSync()[0]!, accuracy.dataSync()[0]!] : [cost.dataSync()[0]!]);
    } finally {
      cost.dispose();
      accuracy?.dispose();
    }
  };
}

/** A batch of this shape is one the model takes as it is (same rank, every fixed dimension equal). */
function fits(shape: readonly number[], expected: readonly (number | null)[]): boolean {
  return shape.length === expected.length && expected.every((d, i) => i === 0 || d === null || d === shape[i]);
}
