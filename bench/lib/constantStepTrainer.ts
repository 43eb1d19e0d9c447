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
  private weights: Weights;
  /** Epoch-ms marks: when the global weights arrived (setWeights) and when fit() finished. */
  readonly marks: { setWeights?: number; fitEnd?: number } = {};

  constructor(
    spec: readonly TensorSpec[],
    private readonly step: number,
    private readonly examples: number,
  ) {
    // Zeros: only the spec matters for hello; untouched pages cost no resident memory.
    this.weights = spec.map((t) => ({ name: t.name, shape: [...t.shape], data: new Float32Array(sizeOfShape(t.shape)) }));
  }

  describe(): TrainerDescription {
    return { numTrainExamples: this.examples, numTestExamples: this.examples, backend: 'bench-constant-step' };
  }

  getWeights(): Weights {
    return this.weights;
  }

  setWeights(weights: Weights): void {
    this.marks.setWeights = epochMs();
    this.weights = weights; // the node decoded them into fresh arrays; no copy needed
  }

  async fit(): Promise<FitOutcome> {
    const step = this.step;
    this.weights = this.weights.map((t) => {
      const data = new Float32Array(t.data.length);
      for (let i = 0; i < data.length; i++) data[i] = t.data[i]! + step;
      return { name: t.name, shape: t.shape, data };
    });
    this.marks.fitEnd = epochMs();
    return { numExamples: this.examples, metrics: { step } };
  }

  async evaluate(): Promise<EvaluateOutcome> {
    return { numExamples: this.examples, loss: 0, metrics: {} };
  }
}
