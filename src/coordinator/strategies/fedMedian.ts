import { RobustStrategy, mapSortedColumns } from './robustStrategy.js';

/**
 * The coordinate-wise median of the updates (Yin, Chen, Ramchandran and Bartlett 2018, "Byzantine-Robust
 * Distributed Learning: Towards Optimal Statistical Rates", ICML, section 3): for an even count, the mean
 * of the two middle values. Unweighted.
 */
export function coordinateMedian(updates: readonly Float32Array[]): Float32Array {
  if (updates.length === 0) throw new RangeError('the median of no updates is undefined');
  return mapSortedColumns(updates, (s, n) => (n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2));
}

/**
 * FedMedian: the new model moves by the coordinate-wise median delta (Yin et al. 2018). Tolerates fewer
 * than half the clients sending arbitrary updates. Plain mode only (it needs every update).
 */
export class FedMedian extends RobustStrategy {
  override readonly name: string = 'fedmedian';

  protected combine(updates: readonly Float32Array[]): Float32Array {
    return coordinateMedian(updates);
  }
}
