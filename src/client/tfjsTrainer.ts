import { TASK_EXTRAS } from '../protocol/taskExtras.js';
import * as tf from '@tensorflow/tfjs';
import { poissonSubsample } from '../privacy/poissonSampling.js';
import { RdpAccountant, type RdpState } from '../privacy/rdpAccountant.js';
import { createSeededRng, mixSeed, shuffleInPlace } from '../protocol/seededRng.js';
import { specMismatch, specOf, type Weights } from '../protocol/tensors.js';
import { checkDpSgdModel, checkDpSgdOptions, perExampleLoss, privateGradientsYielding } from './dpSgd.js';
import { readModelWeights, weightNames, writeModelWeights } from './model/modelWeights.js';
import { batchStep } from './batchStep.js';
import { eventLoopYielder } from './eventLoopYield.js';
import { isExampleSource, tensorSource, type ExampleSource, type LabelledTensors } from './exampleSource.js';
import { proximalStep } from './proximalStep.js';
import { evaluateModel } from './tfjsEvaluation.js';
import { checkBatchSize, makeOptimizer, sgdLearningRate, type TfjsTrainerOptions } from './tfjsTrainerOptions.js';
import type { CorrectedFitOutcome, EvaluateConfig, EvaluateOutcome, FitConfig, FitOutcome, Trainer, TrainerDescription } from './trainer.js';

export type { TfjsLoss, TfjsOptimizerName, TfjsTrainerOptions } from './tfjsTrainerOptions.js';
export type { LabelledTensors, ExampleSource, ExampleBatch } from './exampleSource.js';

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
    const proximal = (typeof mu === 'number' && mu > 0) || correction ? proximalStep(this.options, optimizer, typeof mu === 'number' ? mu : 0, correction) : undefined;
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
    return evaluateModel(this.options, this.test, config);
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
