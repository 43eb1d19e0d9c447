import { StrategyConfigError, type FedAvgOptions } from './fedAvg.js';
import { krumScoresAmong, lowestScores, pairwiseSquaredDistances } from './krum.js';
import { RobustStrategy, mapSortedColumns } from './robustStrategy.js';
import { checkInteger } from './strategyOptions.js';

/** El Mhamdi et al.'s condition for Bulyan with f Byzantine among n: n >= 4f + 3. */
export function checkBulyanCount(n: number, f: number): void {
  if (!(n >= 4 * f + 3)) throw new RangeError(`Bulyan with f = ${f} Byzantine clients needs at least 4f + 3 = ${4 * f + 3} updates, got ${n}`);
}

/**
 * Bulyan's first phase: theta = n - 2f updates chosen one at a time by Krum over those not yet chosen
 * (each time with max(1, |R| - f - 2) neighbours, as Flower does: the last sets are below Krum's own bound).
 * Returns their indices in the order chosen.
 */
export function bulyanSelect(updates: readonly Float32Array[], f: number): number[] {
  checkBulyanCount(updates.length, f);
  const n = updates.length;
  const distances = pairwiseSquaredDistances(updates);
  const remaining = [...Array(n).keys()];
  const chosen: number[] = [];
  while (chosen.length < n - 2 * f) {
    const scores = krumScoresAmong(distances, n, remaining, Math.max(1, remaining.length - f - 2));
    const best = lowestScores(scores, 1)[0]!;
    chosen.push(remaining[best]!);
    remaining.splice(best, 1);
  }
  return chosen;
}

/**
 * Mean of the `beta` values of a sorted column closest to its median. They form a contiguous run around
 * the middle; it grows outward one value at a time, the nearer side first (the lower one on a tie).
 */
export function meanClosestToMedian(sorted: Float64Array, n: number, beta: number): number {
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  let lo = Math.floor((n - 1) / 2);
  let hi = lo + 1;
  let sum = 0;
  for (let k = 0; k < beta; k++) {
    const takeLow = hi >= n || (lo >= 0 && median - sorted[lo]! <= sorted[hi]! - median);
    sum += takeLow ? sorted[lo--]! : sorted[hi++]!;
  }
  return sum / beta;
}

/**
 * Bulyan (El Mhamdi, Guerraoui and Rouault 2018, "The Hidden Vulnerability of Distributed Learning in
 * Byzantium", ICML, section 4), with Krum as the selection rule: select theta = n - 2f updates by iterated
 * Krum, then per coordinate average the beta = theta - 2f selected values closest to their median.
 */
export function bulyan(updates: readonly Float32Array[], f: number): Float32Array {
  const selected = bulyanSelect(updates, f).map((i) => updates[i]!);
  const beta = selected.length - 2 * f;
  return mapSortedColumns(selected, (s, n) => meanClosestToMedian(s, n, beta));
}

export interface BulyanOptions extends FedAvgOptions {
  /** f: the number of Byzantine clients tolerated. Every counted round must have n >= 4f + 3. */
  readonly byzantine: number;
}

/** Bulyan over Krum (El Mhamdi et al. 2018). n >= 4f + 3 is checked against minFitClients. Plain mode only. */
export class Bulyan extends RobustStrategy {
  override readonly name: string = 'bulyan';
  /** f, the Byzantine clients tolerated. */
  readonly byzantine: number;

  constructor(options: BulyanOptions) {
    super(options);
    this.byzantine = checkInteger('byzantine (f)', options.byzantine, 0);
    const f = this.byzantine;
    if (!(this.minFitClients >= 4 * f + 3)) {
      throw new StrategyConfigError(`Bulyan with byzantine f = ${f} needs n >= 4f + 3 = ${4 * f + 3} clients in every round: raise minFitClients (${this.minFitClients}) to at least ${4 * f + 3}`);
    }
  }

  protected combine(updates: readonly Float32Array[]): Float32Array {
    return bulyan(updates, this.byzantine);
  }
}
