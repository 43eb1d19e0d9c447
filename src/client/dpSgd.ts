import * as tf from '@tensorflow/tfjs';
import { addDiscreteGaussianNoise } from '../privacy/gaussianNoise.js';
import type { RdpConversion } from '../privacy/rdpConversion.js';

/**
 * Example-level DP-SGD (Abadi, Chu, Goodfellow, McMahan, Mironov, Talwar and Zhang 2016, "Deep Learning with
 * Differential Privacy", Algorithm 1) for any tfjs LayersModel: per-example gradients, each clipped to L2 norm C
 * over all trainable tensors together, summed, plus noise of std zC per coordinate from node:crypto (the discrete
 * Gaussian mechanism of privacy/gaussianNoise.ts), divided by
 * the expected batch size L = qn (not the drawn one, whose size would otherwise leak), then the optimizer step.
 *
 * tfjs has no vmap, so per-example gradients are one `tf.variableGrads` per example: correct for every layer
 * type and cheap for tabular models. Microbatches (one clip per group of examples) are deliberately not offered:
 * with Poisson-sampled batches of varying size the grouping would depend on which other records were drawn, and
 * one record could then change several groups' clipped gradients, breaking the per-record sensitivity C.
 * Layers that mix the examples of a batch (batch normalization) would break it too, and are refused.
 */

export interface DpSgdOptions {
  /** C: every example's gradient is clipped to this L2 norm (all trainable tensors as one vector). */
  readonly clipNorm: number;
  /** z: the sum of clipped gradients gets Gaussian noise of standard deviation z C per coordinate (> 0). */
  readonly noiseMultiplier: number;
  /** delta at which the trainer reports its epsilon (usually below 1 / the number of training records). */
  readonly delta: number;
  /** A record-level budget: the trainer refuses (throws before training) a round that would take epsilon past it. */
  readonly targetEpsilon?: number;
  /** How RDP converts to (epsilon, delta) (default `improved`). */
  readonly conversion?: RdpConversion;
  /** A stored accountant state to continue from (a restarted node): `TfjsTrainer.dpSgdState`'s value. */
  readonly accountantState?: unknown;
}

/** Checks the options, saying what is wrong. Without noise there is no privacy, so z = 0 is refused here. */
export function checkDpSgdOptions(o: DpSgdOptions): void {
  if (!(o.clipNorm > 0 && Number.isFinite(o.clipNorm))) throw new RangeError(`dpSgd.clipNorm must be positive and finite, got ${o.clipNorm}`);
  if (!(o.noiseMultiplier > 0 && Number.isFinite(o.noiseMultiplier))) {
    throw new RangeError(`dpSgd.noiseMultiplier must be positive and finite (without noise there is no privacy), got ${o.noiseMultiplier}`);
  }
  if (!(o.delta > 0 && o.delta < 1)) throw new RangeError(`dpSgd.delta must be in (0, 1), got ${o.delta}`);
  if (o.targetEpsilon !== undefined && !(o.targetEpsilon > 0 && Number.isFinite(o.targetEpsilon))) {
    throw new RangeError(`dpSgd.targetEpsilon must be positive and finite, got ${o.targetEpsilon}`);
  }
}

/** Per-example loss: yTrue and yPred of shape [1, ...] to a tensor whose mean is that example's loss. */
export type PerExampleLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Refuses models whose layers mix the examples of a batch: their per-example gradients are not per example. */
export function checkDpSgdModel(model: tf.LayersModel): void {
  const mixing = model.layers.find((l) => l.getClassName() === 'BatchNormalization');
  if (mixing) throw new Error(`DP-SGD cannot train layer ${mixing.name} (batch normalization mixes the examples of a batch, so one record's influence is not bounded by the clip norm)`);
}

/** One DP-SGD step's inputs: the model, the batch, the clip norm and the noise. */
export interface PrivateGradientInput {
  /** The model whose trainable weights get gradients. */
  readonly model: tf.LayersModel;
  /** The loss, one value per example. */
  readonly loss: PerExampleLoss;
  /** The drawn batch: rows of x and y (first axis), possibly none. */
  readonly x: tf.Tensor;
  /** The batch's labels. */
  readonly y: tf.Tensor;
  /** C: each example's gradient is clipped to this L2 norm. */
  readonly clipNorm: number;
  /** z; 0 gives the noise-free clipped mean (tests, clipping-only ablations), which is not private. */
  readonly noiseMultiplier: number;
  /** L, the expected batch size qn that the noised sum is divided by. */
  readonly denominator: number;
}

/** One DP-SGD step's gradients, and the per-example norms that went into them. */
export interface PrivateGradients {
  /** (sum of clipped per-example gradients + noise) / L, by variable name: what `optimizer.applyGradients` takes. */
  readonly gradients: tf.NamedTensorMap;
  /** Each example's gradient norm before clipping (stays on this node: it is not private). */
  readonly norms: Float32Array;
}

/**
 * One DP-SGD gradient. The clip factor is computed in the graph as C / max(norm, C) = min(1, C / norm), so a
 * zero gradient is never divided by its norm. The caller disposes `gradients`.
 */
export function privateGradients(input: PrivateGradientInput): PrivateGradients {
  const steps = clippedSum(input);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return noised(input, step.value);
}

/**
 * privateGradients, yielding to `pause` after each example: a batch of a large CNN is many backward passes (seconds
 * on a loaded core), and the node's socket must answer its heartbeats meanwhile.
 */
export async function privateGradientsYielding(input: PrivateGradientInput, pause: () => Promise<void>): Promise<PrivateGradients> {
  const steps = clippedSum(input);
  let step = steps.next();
  while (!step.done) {
    await pause();
    step = steps.next();
  }
  return noised(input, step.value);
}

interface ClippedSum {
  readonly variables: tf.Variable[];
  readonly sums: tf.Tensor[];
  readonly norms: tf.Tensor[];
}

/** The sum of clipped per-example gradients, one example per step. */
function* clippedSum(input: PrivateGradientInput): Generator<void, ClippedSum, void> {
  const { model, loss, x, y, clipNorm, denominator } = input;
  if (!(denominator > 0)) throw new RangeError(`the DP-SGD denominator (expected batch size) must be positive, got ${denominator}`);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const rows = x.shape[0] ?? 0;
  let sums: tf.Tensor[] = variables.map((v) => tf.zerosLike(v));
  const norms: tf.Tensor[] = [];
  for (let r = 0; r < rows; r++) {
    if (r > 0) yield;
    const next = tf.tidy(() => {
      const xr = tf.slice(x, r, 1);
      const yr = tf.slice(y, r, 1);
      const { value, grads } = tf.variableGrads(() => tf.mean(loss(yr, model.apply(xr, { training: true }) as tf.Tensor)) as tf.Scalar, variables);
      value.dispose();
      const g = variables.map((v) => grads[v.name]!);
      const norm = tf.sqrt(tf.addN(g.map((t) => tf.sum(tf.square(t)))));
      const factor = tf.div(clipNorm, tf.maximum(norm, clipNorm));
      return { sums: g.map((t, i) => tf.add(sums[i]!, tf.mul(t, factor))), norm };
    });
    sums.forEach((t) => t.dispose());
    sums = next.sums;
    norms.push(next.norm);
  }
  return { variables, sums, norms };
}

/** The clipped sum noised (when z > 0) and divided by the denominator, by variable name. */
function noised(input: PrivateGradientInput, { variables, sums, norms }: ClippedSum): PrivateGradients {
  const { clipNorm, noiseMultiplier, denominator } = input;
  // The discrete Gaussian mechanism (privacy/gaussianNoise.ts) on all the variables' sums as one vector, whose L2
  // sensitivity is C: rounded to the noise's grid, then noised. tfjs sums in float32; that rounding is not in the
  // sensitivity (as in other DP-SGD libraries).
  const query = new Float64Array(sums.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const sum of sums) {
    query.set(sum.dataSync(), at);
    at += sum.size;
  }
  if (noiseMultiplier > 0) addDiscreteGaussianNoise(query, { noiseMultiplier, sensitivity: clipNorm });
  const gradients: tf.NamedTensorMap = {};
  at = 0;
  variables.forEach((v, i) => {
    const sum = sums[i]!;
    const noised = new Float32Array(sum.size);
    for (let k = 0; k < noised.length; k++) noised[k] = query[at + k]! / denominator;
    at += sum.size;
    gradients[v.name] = tf.tensor(noised, sum.shape, 'float32');
    sum.dispose();
  });
  const normValues = new Float32Array(norms.length);
  norms.forEach((t, i) => {
    normValues[i] = t.dataSync()[0]!;
    t.dispose();
  });
  return { gradients, norms: normValues };
}

/** The per-example form of each compiled loss the trainer supports (tfjs's metrics are the losses, unreduced). */
export function perExampleLoss(name: 'binaryCrossentropy' | 'categoricalCrossentropy' | 'meanSquaredError'): PerExampleLoss {
  if (name === 'binaryCrossentropy') return (t, p) => tf.metrics.binaryCrossentropy(t, p);
  if (name === 'categoricalCrossentropy') return (t, p) => tf.metrics.categoricalCrossentropy(t, p);
  return (t, p) => tf.metrics.meanSquaredError(t, p);
}
