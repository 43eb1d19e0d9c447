import { TASK_EXTRAS } from '../protocol/taskExtras.js';
import * as tf from '@tensorflow/tfjs';
import { poissonSubsample } from '../privacy/poissonSampling.js';
import { RdpAccountant, type RdpState } from '../privacy/rdpAccountant.js';
import { createSeededRng, mixSeed, shuffleInPlace } from '../protocol/seededRng.js';
import { specMismatch, specOf, type Weights } from '../protocol/tensors.js';
import { checkDpSgdModel, checkDpSgdOptions, perExampleLoss, privateGradientsYielding, type DpSgdOptions } from './dpSgd.js';
import { readModelWeights, weightNames, writeModelWeights } from './model/modelWeights.js';
import { batchStep } from './batchStep.js';
import { eventLoopYielder } from './eventLoopYield.js';
import { isExampleSource, tensorSource, type ExampleSource, type LabelledTensors } from './exampleSource.js';
import type { CorrectedFitOutcome, EvaluateConfig, EvaluateOutcome, FitConfig, FitOutcome, Trainer, TrainerDescription } from './trainer.js';

/** Losses TfjsTrainer compiles with: binary or categorical cross-entropy, or mean squared error. */
export type TfjsLoss = 'binaryCrossentropy' | 'categoricalCrossentropy' | 'meanSquaredError';
/** Built-in optimizers: plain SGD or Adam. */
export type TfjsOptimizerName = 'sgd' | 'adam';

export type { LabelledTensors, ExampleSource, ExampleBatch } from './exampleSource.js';

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

function makeOptimizer(choice: TfjsTrainerOptions['optimizer'], learningRate: number): tf.Optimizer {
  if (typeof choice === 'function') return choice(learningRate);
  return choice === 'adam' ? tf.train.adam(learningRate) : tf.train.sgd(learningRate);
}

function scalars(value: tf.Scalar | tf.Scalar[]): number[] {
  const list = Array.isArray(value) ? value : [value];
  const out = list.map((s) => s.dataSync()[0]!);
  list.forEach((s) => s.dispose());
  return out;
}

const asSource = (data: LabelledTensors | ExampleSource): ExampleSource => (isExampleSource(data) ? data : tensorSource(data));

/**
 * Trains any tfjs LayersModel on in-memory tensors or on a source that decodes batches on demand. A fresh optimizer
 * is made each round (FedAvg clients start each round from the global model); batches follow a seeded order of row
 * indices, so runs reproduce and a streamed source trains exactly as the same rows in memory would.
 */
export class TfjsTrainer implements Trainer {
  private readonly names: string[];
  private train: ExampleSource;
  private test: ExampleSource | undefined;
  /** DP-SGD's record-level accountant, across every round this trainer trained. */
  private accountant: RdpAccountant | undefined;

  constructor(private readonly options: TfjsTrainerOptions) {
    this.names = weightNames(options.model);
    this.train = asSource(options.train);
    this.test = options.test && asSource(options.test);
    const dp = options.dpSgd;
    if (dp) {
      checkDpSgdOptions(dp);
      checkDpSgdModel(options.model);
      this.accountant = dp.accountantState === undefined ? new RdpAccountant() : RdpAccountant.fromState(dp.accountantState);
    }
  }

  /** DP-SGD's accountant state (JSON as it is) for a node that restarts; undefined without DP-SGD. */
  get dpSgdState(): RdpState | undefined {
    return this.accountant?.state;
  }

  /** The record-level epsilon spent so far at the configured delta; undefined without DP-SGD. */
  get dpSgdEpsilon(): number | undefined {
    const dp = this.options.dpSgd;
    return dp && this.accountant ? this.accountant.epsilon(dp.delta, dp.conversion).epsilon : undefined;
  }

  describe(): TrainerDescription {
    return {
      numTrainExamples: this.train.rows,
      numTestExamples: this.test?.rows ?? 0,
      backend: tf.getBackend(),
      ...(this.options.datasetFingerprint ? { datasetFingerprint: this.options.datasetFingerprint } : {}),
    };
  }

  getWeights(): Weights {
    return readModelWeights(this.options.model, this.names);
  }

  setWeights(weights: Weights): void {
    writeModelWeights(this.options.model, weights);
  }

  async fit(config: FitConfig): Promise<FitOutcome> {
    return (await this.trainRound(config, undefined)).outcome;
  }

  /**
   * SCAFFOLD's local steps (Karimireddy et al. 2020, Algorithm 1 line 10): y <- y - eta_l (g(y) + c - c_i), with
   * `correction` = c - c_i added to the trainable weights' gradients (non-trainable ones, such as batch-norm
   * statistics, take no gradient step). Option II divides the drift by K eta_l, which is right for plain SGD only,
   * so other optimizers are refused, and so is DP-SGD (its noisy steps are not wired to take the correction).
   */
  async fitWithCorrection(config: FitConfig, correction: Weights): Promise<CorrectedFitOutcome> {
    if (this.options.dpSgd) throw new Error("SCAFFOLD's gradient correction is not combined with DP-SGD: train this client without dpSgd, or use another strategy");
    const mismatch = specMismatch(specOf(this.getWeights()), specOf(correction));
    if (mismatch) throw new Error(`the SCAFFOLD correction does not match the model: ${mismatch}`);
    const { outcome, steps, learningRate } = await this.trainRound(config, correction);
    return { ...outcome, steps, learningRate };
  }

  /** One round of local training; K (the steps taken) and eta_l come back for SCAFFOLD. */
  private async trainRound(config: FitConfig, correction: Weights | undefined): Promise<{ outcome: FitOutcome; steps: number; learningRate: number }> {
    checkBatchSize(config.batchSize);
    const { model } = this.options;
    const train = this.train;
    const optimizer = makeOptimizer(this.options.optimizer, config.learningRate);
    const learningRate = sgdLearningRate(optimizer);
    if (correction && learningRate === undefined) {
      optimizer.dispose();
      throw new Error(`SCAFFOLD needs plain SGD on the clients (option II's control update assumes it), but this trainer's optimizer is ${optimizer.getClassName()}: use optimizer 'sgd'`);
    }
    const n = train.rows;
    if (n === 0) {
      optimizer.dispose();
      throw new Error('this client has no training examples left');
    }
    const batch = Math.min(config.batchSize, n);
    const steps = config.maxSteps ?? config.epochs * Math.ceil(n / batch);
    if (this.options.dpSgd) {
      try {
        return { outcome: await this.fitPrivately(optimizer, n, batch, steps), steps, learningRate: learningRate ?? config.learningRate };
      } finally {
        optimizer.dispose();
      }
    }
    const mu = config.extra?.[TASK_EXTRAS.proximalMu];
    if (mu !== undefined && (typeof mu !== 'number' || !(mu >= 0) || !Number.isFinite(mu))) throw new Error(`proximalMu must be a finite number >= 0, got ${String(mu)}`);
    const proximal = (typeof mu === 'number' && mu > 0) || correction ? this.proximalStep(optimizer, typeof mu === 'number' ? mu : 0, correction) : undefined;
    const trainBatch = proximal ? undefined : batchStep({ model, loss: this.options.loss, accuracy: this.options.accuracy ?? false, optimizer });
    const rng = createSeededRng(mixSeed(this.options.seed ?? 0, config.round));
    const indices = Array.from({ length: n }, (_, i) => i);
    let order = shuffleInPlace([...indices], rng);
    let position = 0;
    let lossSum = 0;
    let accuracySum = 0;
    let seen = 0;
    const pause = eventLoopYielder();
    try {
      for (let step = 0; step < steps; step++) {
        if (position >= n) {
          order = shuffleInPlace([...indices], rng);
          position = 0;
        }
        const rows = order.slice(position, position + batch);
        position += rows.length;
        const b = await train.batch(rows);
        try {
          const values = proximal ? proximal.run(b.x, b.y) : await trainBatch!(b.x, b.y);
          lossSum += values[0]! * rows.length;
          if (this.options.accuracy) accuracySum += (values[1] ?? 0) * rows.length;
        } finally {
          b.dispose();
        }
        seen += rows.length;
        // Yield so sockets (heartbeats, other clients in a simulation) are served during long rounds.
        await pause();
      }
    } finally {
      proximal?.dispose();
      optimizer.dispose();
    }
    const metrics: Record<string, number> = { loss: lossSum / Math.max(seen, 1) };
    if (this.options.accuracy) metrics.accuracy = accuracySum / Math.max(seen, 1);
    return { outcome: { numExamples: n, metrics }, steps, learningRate: learningRate ?? config.learningRate };
  }

  /**
   * FedProx's local objective (Li et al. 2020): the data loss plus (mu / 2) ||w - w_round||^2, where w_round
   * is the model this round started from (snapshotted here), so local training cannot drift far from it.
   * SCAFFOLD's correction rides on the same objective as the linear term <correction, w>, whose gradient is
   * the correction itself, so the two compose. Returns the step and reports [data loss, accuracy] like trainOnBatch.
   */
  private proximalStep(optimizer: tf.Optimizer, mu: number, correction: Weights | undefined): { run(x: tf.Tensor, y: tf.Tensor): number[]; dispose(): void } {
    const { model } = this.options;
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const anchor = mu > 0 ? variables.map((v) => v.clone()) : [];
    // The correction follows model.weights' order; each trainable weight finds its entry by identity.
    const all = model.weights;
    const linear = (correction ? model.trainableWeights : []).map((w) => {
      const t = correction![all.indexOf(w)]!;
      return tf.tensor(t.data, [...t.shape], 'float32');
    });
    const lossOf = perExampleLoss(this.options.loss);
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
              if (this.options.accuracy) accuracy = batchAccuracy(y, predicted);
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

  /**
   * DP-SGD steps: each draws a Poisson batch at q = batch / n (the accountant's assumption; one "epoch" is n /
   * batch steps in expectation), adds the private gradient and applies it. The steps are charged to the
   * accountant before they run, so a round that fails halfway is over-counted, never under-counted.
   */
  private async fitPrivately(optimizer: tf.Optimizer, n: number, batch: number, steps: number): Promise<FitOutcome> {
    const dp = this.options.dpSgd!;
    const { model } = this.options;
    const train = this.train;
    const q = batch / n;
    const conversion = dp.conversion ?? 'improved';
    let accountant = this.accountant!;
    if (dp.targetEpsilon !== undefined) {
      const check = accountant.wouldExceed({ epsilon: dp.targetEpsilon, delta: dp.delta, conversion }, q, dp.noiseMultiplier, steps);
      if (check.exceeds) {
        throw new Error(`DP-SGD budget: ${steps} more steps would bring this node's epsilon to ${check.epsilon.toFixed(4)}, past its target ${dp.targetEpsilon} (delta ${dp.delta}); not training`);
      }
    }
    accountant = accountant.step(q, dp.noiseMultiplier, steps);
    this.accountant = accountant;
    const loss = perExampleLoss(this.options.loss);
    const pause = eventLoopYielder();
    for (let step = 0; step < steps; step++) {
      const rows = poissonSubsample(n, q);
      const b = await train.batch(rows);
      let gradients: tf.NamedTensorMap;
      try {
        ({ gradients } = await privateGradientsYielding({ model, loss, x: b.x, y: b.y, clipNorm: dp.clipNorm, noiseMultiplier: dp.noiseMultiplier, denominator: batch }, pause));
      } finally {
        b.dispose();
      }
      optimizer.applyGradients(gradients);
      tf.dispose(gradients);
      await pause();
    }
    const spent = accountant.epsilon(dp.delta, conversion);
    return {
      numExamples: n,
      metrics: {
        dpSgdEpsilon: spent.epsilon,
        dpSgdDelta: dp.delta,
        dpSgdNoiseMultiplier: dp.noiseMultiplier,
        dpSgdSampleRate: q,
        dpSgdSteps: accountant.steps,
      },
    };
  }

  async evaluate(config: EvaluateConfig): Promise<EvaluateOutcome> {
    const { model } = this.options;
    const test = this.test;
    if (!test || test.rows === 0) throw new Error('this client has no held-out data to evaluate on');
    checkBatchSize(config.batchSize);
    if (!model.optimizer) {
      // compile wants an optimizer, evaluate never steps it: freed at once, so it holds no tensor between rounds.
      const unused = tf.train.sgd(0);
      model.compile({ optimizer: unused, loss: this.options.loss, metrics: this.options.accuracy ? ['accuracy'] : [] });
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
    if (this.options.accuracy && accuracySum !== undefined) metrics.accuracy = accuracySum / n;
    return { numExamples: n, loss: lossSum / n, metrics };
  }

  /** Replaces the data (same row counts and features), e.g. after federated standardization; frees the old tensors. */
  setData(train: LabelledTensors, test?: LabelledTensors): void {
    if (train.x.shape[0] !== this.train.rows || train.x.shape[1] !== this.train.features) {
      throw new Error(`new training data has shape [${train.x.shape.join(', ')}], expected [${this.train.rows}, ${this.train.features}]`);
    }
    this.disposeData();
    this.train = tensorSource(train);
    this.test = test && tensorSource(test);
  }

  /** Frees the model's and the data's tensors. */
  dispose(): void {
    // An optimizer instance given to compile() is not the model's to free (tfjs frees only one it created from a
    // name); the ones this trainer compiles with are freed already, and freeing one twice is harmless.
    this.options.model.optimizer?.dispose();
    this.options.model.dispose();
    this.disposeData();
  }

  private disposeData(): void {
    this.train.dispose();
    this.test?.dispose();
  }
}

/** The learning rate of a plain SGD optimizer (not momentum, not adaptive); undefined for any other kind. */
function sgdLearningRate(optimizer: tf.Optimizer): number | undefined {
  if (optimizer.getClassName() !== 'SGD') return undefined;
  const rate = optimizer.getConfig().learningRate;
  return typeof rate === 'number' ? rate : undefined;
}

/** Share of a batch classified right: thresholded at 0.5 for one output, argmax for several. */
function batchAccuracy(y: tf.Tensor, predicted: tf.Tensor): number {
  return tf.tidy(() => {
    const right = predicted.shape[1] === 1 ? tf.equal(tf.greaterEqual(predicted, 0.5).toFloat(), y) : tf.equal(tf.argMax(predicted, 1), tf.argMax(y, 1));
    return tf.mean(right.toFloat()).dataSync()[0]!;
  });
}

/** A batch of 0 (or a fraction, NaN) would never advance through the rows: refused, naming the value. */
function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a whole number of examples >= 1, got ${String(batchSize)}`);
}
