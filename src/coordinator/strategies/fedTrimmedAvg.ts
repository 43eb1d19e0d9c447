import { StrategyConfigError, type FedAvgOptions } from './fedAvg.js';
import { RobustStrategy, mapSortedColumns, meanOfRange } from './robustStrategy.js';

/** Values cut from each end of a column of n: floor(beta * n), as Yin et al. and Flower (scipy's trim_mean). */
export function trimmedCount(n: number, beta: number): number {
  return Math.floor(beta * n);
}

function checkTrimFraction(beta: number): number {
  if (!(beta >= 0 && beta < 0.5)) throw new StrategyConfigError(`beta (the fraction trimmed from each end) must be within [0, 0.5), got ${beta}`);
  return beta;
}

/**
 * The coordinate-wise beta-trimmed mean (Yin, Chen, Ramchandran and Bartlett 2018, "Byzantine-Robust
 * Distributed Learning: Towards Optimal Statistical Rates", ICML, section 3): per coordinate, drop the
 * floor(beta n) largest and smallest values and average the rest, unweighted. beta < 1/2 leaves at least one.
 */
export function coordinateTrimmedMean(updates: readonly Float32Array[], beta: number): Float32Array {
  checkTrimFraction(beta);
  if (updates.length === 0) throw new RangeError('the trimmed mean of no updates is undefined');
  const k = trimmedCount(updates.length, beta);
  return mapSortedColumns(updates, (s, n) => meanOfRange(s, k, n - k));
}

export interface FedTrimmedAvgOptions extends FedAvgOptions {
  /** Fraction cut from each end, in [0, 0.5); Flower's default 0.2. It protects against fewer than beta n Byzantine clients. */
  readonly beta?: number;
}

/** FedTrimmedAvg: the model moves by the coordinate-wise trimmed mean delta (Yin et al. 2018). Plain mode only. */
export class FedTrimmedAvg extends RobustStrategy {
  override readonly name: string = 'fedtrimmedavg';
  /** The fraction trimmed from each end. */
  readonly beta: number;

  constructor(options: FedTrimmedAvgOptions) {
    super(options);
    this.beta = checkTrimFraction(options.beta ?? 0.2);
  }

  protected combine(updates: readonly Float32Array[]): Float32Array {
    return coordinateTrimmedMean(updates, this.beta);
  }
}
