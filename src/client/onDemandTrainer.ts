import type { TrainTest } from './data/index.js';
import type { Weights } from '../protocol/tensors.js';
import type { CorrectedFitOutcome, EvaluateConfig, EvaluateOutcome, FitConfig, FitOutcome, Trainer, TrainerDescription } from './trainer.js';

/** A trainer that is built for one task and then freed (a TfjsTrainer: its model and data tensors). */
export interface BuiltTrainer extends Trainer {
  /** DP-SGD's accountant state after training, carried into the next build; undefined without DP-SGD. */
  readonly dpSgdState?: unknown;
  dispose(): void;
}

export interface OnDemandTrainerOptions {
  /** The client's rows as training should see them (scaled, if the experiment scales them). */
  readonly data: TrainTest;
  /** What hello announces: counts, backend, dataset fingerprint. */
  readonly description: TrainerDescription;
  /** Weights of the model's shape, shared by every client of a process: hello reads only their names and shapes. */
  readonly shape: Weights;
  /** Builds the trainer for one task from the current rows and the DP-SGD state the last one left. */
  build(data: TrainTest, dpSgdState: unknown): BuiltTrainer | Promise<BuiltTrainer>;
}

/**
 * A virtual client's trainer that holds no model between tasks: its model and tensors exist only while the
 * coordinator has it train or evaluate, so a process can host 10,000 clients and hold a model for each one
 * it is asked to work with, not for each one it hosts. Between tasks it keeps its rows and, under DP-SGD, its
 * accountant. Each task starts from the weights the coordinator sends and a fresh optimizer (as TfjsTrainer
 * does anyway), so training does not depend on whether the model was kept.
 *
 * The client node's order is setWeights, then fit and getWeights (the update), or evaluate: getWeights after
 * training hands the model over and frees it, and so does the end of an evaluation or a failed task.
 */
export class OnDemandTrainer implements Trainer {
  private active: BuiltTrainer | undefined;
  private data: TrainTest;
  private dpSgdState: unknown;

  constructor(private readonly options: OnDemandTrainerOptions) {
    this.data = options.data;
  }

  /** Whether a model is held now (tests, and memory accounting). */
  get holdsModel(): boolean {
    return this.active !== undefined;
  }

  describe(): TrainerDescription {
    return this.options.description;
  }

  /** Before any task: the model's shape only. After training: the trained weights, and the model is freed. */
  getWeights(): Weights {
    const active = this.active;
    if (!active) return this.options.shape;
    try {
      return active.getWeights() as Weights;
    } finally {
      this.release();
    }
  }

  async setWeights(weights: Weights): Promise<void> {
    this.active ??= await this.options.build(this.data, this.dpSgdState);
    await this.active.setWeights(weights);
  }

  fit(config: FitConfig): Promise<FitOutcome> {
    return this.task((t) => t.fit(config));
  }

  fitWithCorrection(config: FitConfig, correction: Weights): Promise<CorrectedFitOutcome> {
    return this.task((t) => {
      if (!t.fitWithCorrection) throw new Error('this trainer cannot apply a SCAFFOLD correction');
      return t.fitWithCorrection(config, correction);
    });
  }

  async evaluate(config: EvaluateConfig): Promise<EvaluateOutcome> {
    try {
      return await this.task((t) => t.evaluate(config));
    } finally {
      this.release();
    }
  }

  /** New rows (federated standardization); the next build trains on them. */
  setData(data: TrainTest): void {
    this.data = data;
    this.release();
  }

  /** Frees whatever is held (a run that ends mid-task). */
  dispose(): void {
    this.release();
  }

  private async task<T>(run: (trainer: BuiltTrainer) => Promise<T>): Promise<T> {
    const trainer = this.active;
    if (!trainer) throw new Error('setWeights must come before a task: the model is built from the weights it is sent');
    try {
      const result = await run(trainer);
      this.dpSgdState = trainer.dpSgdState ?? this.dpSgdState;
      return result;
    } catch (e) {
      this.release();
      throw e;
    }
  }

  private release(): void {
    this.active?.dispose();
    this.active = undefined;
  }
}
