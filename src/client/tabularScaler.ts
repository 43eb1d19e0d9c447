import { applyStandardization, featureCount, type TrainTest } from './data/index.js';
import type { FeatureScaler } from './featureScaler.js';

/** Moments of raw training rows, and the application of a federation-wide z-score to a copy of them. */
export class TabularScaler implements FeatureScaler {
  /** The federation's mean and std this client last applied (undefined until the coordinator sends one). */
  applied: { readonly mean: Float32Array; readonly std: Float32Array } | undefined;

  constructor(
    private readonly raw: TrainTest,
    private readonly onStandardized: (data: TrainTest) => void,
  ) {}

  moments() {
    const { x, rows } = this.raw.train;
    const width = featureCount(this.raw.train);
    const sum = new Float64Array(width);
    const squares = new Float64Array(width);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < width; j++) {
        const v = x[r * width + j]!;
        sum[j]! += v;
        squares[j]! += v * v;
      }
    }
    const mean = new Float32Array(width);
    const meanOfSquares = new Float32Array(width);
    for (let j = 0; j < width; j++) {
      mean[j] = sum[j]! / rows;
      meanOfSquares[j] = squares[j]! / rows;
    }
    return { rows, mean, meanOfSquares };
  }

  standardize(mean: Float32Array, std: Float32Array): void {
    const width = featureCount(this.raw.train);
    if (mean.length !== width) throw new Error(`standardization covers ${mean.length} features, this client has ${width}`);
    const s = { mean: Float64Array.from(mean), std: Float64Array.from(std), constant: Array.from(std, (v) => v === 0) };
    this.applied = { mean: Float32Array.from(mean), std: Float32Array.from(std) };
    this.onStandardized({ train: applyStandardization(this.raw.train, s), test: applyStandardization(this.raw.test, s) });
  }
}
