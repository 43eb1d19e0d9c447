import type { EvaluateConfig, FitConfig, Trainer } from '../../src/client/trainer.js';
import type { Weights } from '../../src/protocol/tensors.js';

/**
 * A Trainer for transfer tests: `fit` returns the weights it received plus a fixed constant, so the
 * update it uploads is exactly `shift` in every parameter, and the coordinator's result is predictable
 * to the bit. It also records whether the weights it received equal what the test expects.
 */
export class ConstantShiftTrainer implements Trainer {
  private weights: Weights;
  /** What each fit received, checked against `expectReceived` value by value (mismatch count). */
  readonly receivedMismatches: number[] = [];

  constructor(
    initial: Weights,
    private readonly shift: number,
    private readonly numExamples: number,
    private readonly expectReceived?: Weights,
  ) {
    this.weights = initial;
  }

  describe() {
    return { numTrainExamples: this.numExamples, numTestExamples: 1, backend: 'js' };
  }

  getWeights(): Weights {
    return this.weights;
  }

  setWeights(weights: Weights): void {
    this.weights = weights;
  }

  async fit(_config: FitConfig) {
    if (this.expectReceived) {
      let mismatches = 0;
      this.weights.forEach((t, i) => {
        const expected = this.expectReceived![i]!.data;
        if (t.data.length !== expected.length) mismatches += Math.abs(t.data.length - expected.length) + 1;
        for (let j = 0; j < Math.min(t.data.length, expected.length); j++) if (t.data[j] !== expected[j]) mismatches++;
      });
      this.receivedMismatches.push(mismatches);
    }
    this.weights = this.weights.map((t) => {
      const data = new Float32Array(t.data.length);
      for (let j = 0; j < data.length; j++) data[j] = t.data[j]! + this.shift;
      return { name: t.name, shape: [...t.shape], data };
    });
    return { numExamples: this.numExamples, metrics: {} };
  }

  async evaluate(_config: EvaluateConfig) {
    return { numExamples: 1, loss: 0, metrics: {} };
  }
}
