import type { Weights } from '../../src/protocol/tensors.js';
import type { CorrectedFitOutcome, EvaluateConfig, FitConfig, Trainer } from '../../src/client/trainer.js';

/**
 * A custom (non-tfjs) Trainer: linear regression by gradient descent on its own points. It proves the
 * Trainer seam works for hand-written loops and keeps protocol tests fast.
 */
export class LinearTrainer implements Trainer {
  w: Float32Array;
  b = new Float32Array(1);
  /** Hook for tests: runs before each fit (delay, crash, disconnect). */
  beforeFit: (config: FitConfig) => Promise<void> | void = () => undefined;

  constructor(
    private readonly xs: number[][],
    private readonly ys: number[],
    readonly name = 'linear',
  ) {
    this.w = new Float32Array(xs[0]!.length);
  }

  describe() {
    return { numTrainExamples: this.xs.length, numTestExamples: this.xs.length, backend: 'js' };
  }

  getWeights(): Weights {
    return [
      { name: 'w', shape: [this.w.length], data: Float32Array.from(this.w) },
      { name: 'b', shape: [1], data: Float32Array.from(this.b) },
    ];
  }

  setWeights(weights: Weights): void {
    this.w = Float32Array.from(weights[0]!.data);
    this.b = Float32Array.from(weights[1]!.data);
  }

  async fit(config: FitConfig) {
    return this.descend(config, undefined);
  }

  /** SCAFFOLD's seam: `epochs` full-batch GD steps, each adding `correction` ([w, b]) to the gradient. */
  async fitWithCorrection(config: FitConfig, correction: Weights): Promise<CorrectedFitOutcome> {
    const outcome = await this.descend(config, correction);
    return { ...outcome, steps: config.epochs, learningRate: config.learningRate };
  }

  private async descend(config: FitConfig, correction: Weights | undefined) {
    await this.beforeFit(config);
    for (let e = 0; e < config.epochs; e++) {
      const gw = Float64Array.from(correction?.[0]!.data ?? new Float64Array(this.w.length));
      let gb = correction?.[1]!.data[0] ?? 0;
      this.xs.forEach((x, i) => {
        const err = this.predict(x) - this.ys[i]!;
        x.forEach((v, j) => (gw[j]! += (2 * err * v) / this.xs.length));
        gb += (2 * err) / this.xs.length;
      });
      this.w = this.w.map((v, j) => v - config.learningRate * gw[j]!);
      this.b[0] = this.b[0]! - config.learningRate * gb;
    }
    return { numExamples: this.xs.length, metrics: { loss: this.mse() } };
  }

  async evaluate(_config: EvaluateConfig) {
    return { numExamples: this.xs.length, loss: this.mse(), metrics: { mse: this.mse() } };
  }

  private predict(x: number[]): number {
    return x.reduce((s, v, j) => s + v * this.w[j]!, this.b[0]!);
  }

  private mse(): number {
    return this.xs.reduce((s, x, i) => s + (this.predict(x) - this.ys[i]!) ** 2, 0) / this.xs.length;
  }
}

/** Points on y = 2 x0 - 3 x1 + 1, deterministic per seed. */
export function linearData(n: number, seed: number): { xs: number[][]; ys: number[] } {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const xs = Array.from({ length: n }, () => [rnd(), rnd()]);
  return { xs, ys: xs.map(([a, b]) => 2 * a! - 3 * b! + 1) };
}

/** LinearTrainer's model (w: 2 weights, b: 1 bias) at zero: the initial weights of most federation tests. */
export function linearZeros(): Weights {
  return [
    { name: 'w', shape: [2], data: new Float32Array(2) },
    { name: 'b', shape: [1], data: new Float32Array(1) },
  ];
}
