import type { EvaluateOutcome, FitOutcome, Trainer, TrainerDescription } from '../../src/client/trainer.js';
import { sizeOfShape, type TensorSpec, type Weights } from '../../src/protocol/tensors.js';

/** Milliseconds since the epoch, comparable across processes on one machine. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/**
 * A Trainer whose "training" adds `step` to every weight, so the aggregated model is known exactly.
 * With integer-valued globals below 2^20 and a step that is a multiple of 1/4, `global + step` and the
 * client's `local - global` are exact in float32: the update each client sends is exactly `step`.
 */
export class ConstantStepTrainer implements Trainer {
  /** This trainer's model, resident from construction as a real model's variables are: fit writes here. */
  private readonly model: Weights;
  /** The weights getWeights() reports: the model after a fit, or the weights last set. */
  private weights: Weights;
  /** Epoch-ms marks: when the global weights arrived (setWeights) and when fit() finished. */
  readonly marks: { setWeights?: number; fitEnd?: number } = {};

  constructor(
    spec: readonly TensorSpec[],
    private readonly step: number,
    private readonly examples: number,
  ) {
    // Written once now (fill touches every page), so a fit writes into memory the process already holds, as a
    // trainer's model does, instead of faulting in a fresh copy of the model each round.
    this.model = spec.map((t) => ({ name: t.name, shape: [...t.shape], data: new Float32Array(sizeOfShape(t.shape)).fill(0) }));
    this.weights = this.model;
  }

  describe(): TrainerDescription {
    return { numTrainExamples: this.examples, numTestExamples: this.examples, backend: 'bench-constant-step' };
  }

  getWeights(): Weights {
    return this.weights;
  }

  setWeights(weights: Weights): void {
    this.marks.setWeights = epochMs();
    this.weights = weights; // read by fit, never written: the node keeps them as the global to subtract
  }

  async fit(): Promise<FitOutcome> {
    const step = this.step;
    this.model.forEach((t, k) => {
      const from = this.weights[k]!.data;
      if (from.length !== t.data.length) throw new Error(`tensor ${t.name}: ${from.length} values set, the model has ${t.data.length}`);
      const to = t.data;
      for (let i = 0; i < to.length; i++) to[i] = from[i]! + step;
    });
    this.weights = this.model;
    this.marks.fitEnd = epochMs();
    return { numExamples: this.examples, metrics: { step } };
  }

  async evaluate(): Promise<EvaluateOutcome> {
    return { numExamples: this.examples, loss: 0, metrics: {} };
  }
}
