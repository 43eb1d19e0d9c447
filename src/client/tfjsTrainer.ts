import * as tf from '@tensorflow/tfjs';
import { mixSeed, seededRandom, shuffled } from '../protocol/seededRandom.js';
import type { NamedTensor, Weights } from '../protocol/tensors.js';
import type { EvaluateConfig, EvaluateOutcome, FitConfig, FitOutcome, Trainer, TrainerDescription } from './trainer.js';

export type TfjsLoss = 'binaryCrossentropy' | 'categoricalCrossentropy' | 'meanSquaredError';
export type TfjsOptimizerName = 'sgd' | 'adam';

export interface LabelledTensors {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
}

export interface TfjsTrainerOptions {
  readonly model: tf.LayersModel;
  readonly train: LabelledTensors;
  readonly test?: LabelledTensors;
  readonly loss: TfjsLoss;
  /** Reported as `accuracy` in fit and evaluate metrics when true (classification). */
  readonly accuracy?: boolean;
  readonly optimizer?: TfjsOptimizerName | ((learningRate: number) => tf.Optimizer);
  /** Seeds the batch order of every round (with the round number), for reproducible runs. */
  readonly seed?: number;
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

/**
 * Trains any tfjs LayersModel on in-memory tensors. A fresh optimizer is made each round (FedAvg
 * clients start each round from the global model); batches follow a seeded order so runs reproduce.
 */
export class TfjsTrainer implements Trainer {
  private readonly names: string[];

  constructor(private readonly options: TfjsTrainerOptions) {
    // Layer names carry process-wide counters (dense_Dense3); positions and weight kinds do not.
    this.names = options.model.weights.map((w, i) => `${i}/${w.originalName.split('/').pop() ?? 'w'}`);
    const n = options.train.x.shape[0];
    if (n === undefined || n !== options.train.y.shape[0]) {
      throw new Error(`training x has ${n} rows but y has ${options.train.y.shape[0]}`);
    }
  }

  describe(): TrainerDescription {
    return {
      numTrainExamples: this.options.train.x.shape[0] ?? 0,
      numTestExamples: this.options.test?.x.shape[0] ?? 0,
      backend: tf.getBackend(),
    };
  }

  getWeights(): Weights {
    return this.options.model.getWeights().map((t, i): NamedTensor => ({
      name: this.names[i]!,
      shape: [...t.shape],
      data: Float32Array.from(t.dataSync()),
    }));
  }

  setWeights(weights: Weights): void {
    if (weights.length !== this.names.length) throw new Error(`expected ${this.names.length} tensors, got ${weights.length}`);
    const tensors = weights.map((w) => tf.tensor(w.data, [...w.shape], 'float32'));
    try {
      this.options.model.setWeights(tensors);
    } finally {
      tensors.forEach((t) => t.dispose());
    }
  }

  async fit(config: FitConfig): Promise<FitOutcome> {
    const { model, train } = this.options;
    const optimizer = makeOptimizer(this.options.optimizer, config.learningRate);
    model.compile({ optimizer, loss: this.options.loss, metrics: this.options.accuracy ? ['accuracy'] : [] });
    const n = train.x.shape[0]!;
    const batch = Math.min(config.batchSize, n);
    const steps = config.maxSteps ?? config.epochs * Math.ceil(n / batch);
    const random = seededRandom(mixSeed(this.options.seed ?? 0, config.round));
    const indices = Array.from({ length: n }, (_, i) => i);
    let order = shuffled(indices, random);
    let position = 0;
    let lossSum = 0;
    let accuracySum = 0;
    let seen = 0;
    for (let step = 0; step < steps; step++) {
      if (position >= n) {
        order = shuffled(indices, random);
        position = 0;
      }
      const rows = order.slice(position, position + batch);
      position += rows.length;
      const [xb, yb] = tf.tidy(() => {
        const idx = tf.tensor1d(rows, 'int32');
        return [tf.gather(train.x, idx), tf.gather(train.y, idx)];
      });
      const out = await model.trainOnBatch(xb!, yb!);
      xb!.dispose();
      yb!.dispose();
      const values = Array.isArray(out) ? out : [out];
      lossSum += values[0]! * rows.length;
      if (this.options.accuracy) accuracySum += (values[1] ?? 0) * rows.length;
      seen += rows.length;
      // Yield so sockets (heartbeats, other clients in a simulation) are served during long rounds.
      if (step % 16 === 15) await new Promise((r) => setImmediate(r));
    }
    optimizer.dispose();
    const metrics: Record<string, number> = { loss: lossSum / Math.max(seen, 1) };
    if (this.options.accuracy) metrics.accuracy = accuracySum / Math.max(seen, 1);
    return { numExamples: n, metrics };
  }

  async evaluate(config: EvaluateConfig): Promise<EvaluateOutcome> {
    const { model, test } = this.options;
    if (!test || test.x.shape[0] === 0) throw new Error('this client has no held-out data to evaluate on');
    if (!model.optimizer) model.compile({ optimizer: tf.train.sgd(0), loss: this.options.loss, metrics: this.options.accuracy ? ['accuracy'] : [] });
    const [loss, accuracy] = scalars(model.evaluate(test.x, test.y, { batchSize: config.batchSize }) as tf.Scalar | tf.Scalar[]);
    const metrics: Record<string, number> = {};
    if (this.options.accuracy && accuracy !== undefined) metrics.accuracy = accuracy;
    return { numExamples: test.x.shape[0]!, loss: loss!, metrics };
  }
}
