import * as tf from '@tensorflow/tfjs';
import type { Weights } from '../protocol/tensors.js';
import { perExampleLoss } from './dpSgd.js';
import type { TfjsTrainerOptions } from './tfjsTrainerOptions.js';

/** One training step on a batch, reporting [data loss, accuracy] like trainOnBatch; dispose frees its tensors. */
export interface ProximalStep {
  run(x: tf.Tensor, y: tf.Tensor): number[];
  dispose(): void;
}

/**
 * FedProx's local objective (Li et al. 2020): the data loss plus (mu / 2) ||w - w_round||^2, where w_round
 * is the model this round started from (snapshotted here), so local training cannot drift far from it.
 * SCAFFOLD's correction rides on the same objective as the linear term <correction, w>, whose gradient is
 * the correction itself, so the two compose. Returns the step and reports [data loss, accuracy] like trainOnBatch.
 */
export function proximalStep(
  options: Pick<TfjsTrainerOptions, 'model' | 'loss' | 'accuracy'>,
  optimizer: tf.Optimizer,
  mu: number,
  correction: Weights | undefined,
): ProximalStep {
  const { model } = options;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const anchor = mu > 0 ? variables.map((v) => v.clone()) : [];
  // The correction follows model.weights' order; each trainable weight finds its entry by identity.
  const all = model.weights;
  const linear = (correction ? model.trainableWeights : []).map((w) => {
    const t = correction![all.indexOf(w)]!;
    return tf.tensor(t.data, [...t.shape], 'float32');
  });
  const lossOf = perExampleLoss(options.loss);
  return {
    run: (x, y) => {
      let dataLoss = 0;
      let accuracy = 0;
      const total = optimizer.minimize(
        () =>
          tf.tidy(() => {
            const predicted = model.apply(x, { training: true }) as tf.Tensor;
            const data = lossOf(y, predicted).mean();
            dataLoss = data.dataSync()[0]!;
            if (options.accuracy) accuracy = batchAccuracy(y, predicted);
            const terms: tf.Tensor[] = [data];
            if (mu > 0) terms.push(tf.mul(mu / 2, tf.addN(variables.map((v, i) => tf.sum(tf.square(tf.sub(v, anchor[i]!)))))));
            linear.forEach((c, i) => terms.push(tf.sum(tf.mul(c, variables[i]!))));
            return (terms.length === 1 ? data : tf.addN(terms)) as tf.Scalar;
          }),
        true,
        variables,
      );
      total?.dispose();
      return [dataLoss, accuracy];
    },
    dispose: () => [...anchor, ...linear].forEach((t) => t.dispose()),
  };
}

/** Share of a batch classified right: thresholded at 0.5 for one output, argmax for several. */
function batchAccuracy(y: tf.Tensor, predicted: tf.Tensor): number {
  return tf.tidy(() => {
    const right = predicted.shape[1] === 1 ? tf.equal(tf.greaterEqual(predicted, 0.5).toFloat(), y) : tf.equal(tf.argMax(predicted, 1), tf.argMax(y, 1));
    return tf.mean(right.toFloat()).dataSync()[0]!;
  });
}
