import { StrategyConfigError, type FedAvgOptions } from './fedAvg.js';
import { RobustStrategy } from './robustStrategy.js';
import { checkInteger } from './strategyOptions.js';

/** Squared L2 distances between every pair of updates, in float64: row-major n x n, zero diagonal. */
export function pairwiseSquaredDistances(updates: readonly Float32Array[]): Float64Array {
  const n = updates.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = updates[i]!;
    for (let j = i + 1; j < n; j++) {
      const b = updates[j]!;
      if (a.length !== b.length) throw new RangeError(`updates differ in length (${a.length} and ${b.length})`);
      let s = 0;
      for (let k = 0; k < a.length; k++) {
        const d = a[k]! - b[k]!;
        s += d * d;
      }
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * Krum scores of the `members` (indices into an n x n distance matrix): for each, the sum of its squared
 * distances to its `neighbours` nearest other members. Blanchard et al. take n - f - 2 neighbours.
 */
export function krumScoresAmong(distances: Float64Array, n: number, members: readonly number[], neighbours: number): Float64Array {
  const scores = new Float64Array(members.length);
  const row: number[] = [];
  members.forEach((i, a) => {
    row.length = 0;
    for (const j of members) if (j !== i) row.push(distances[i * n + j]!);
    row.sort((x, y) => x - y);
    let s = 0;
    for (let k = 0; k < Math.min(neighbours, row.length); k++) s += row[k]!;
    scores[a] = s;
  });
  return scores;
}

/** Blanchard et al.'s condition for Krum with f Byzantine among n: n > 2f + 2 (n - f - 2 >= 1 neighbours). */
export function checkKrumCount(n: number, f: number): void {
  if (!(n > 2 * f + 2)) throw new RangeError(`Krum with f = ${f} Byzantine clients needs more than 2f + 2 = ${2 * f + 2} updates, got ${n}`);
}

/** Krum scores of all n updates with f Byzantine: each one's sum of squared distances to its n - f - 2 nearest. */
export function krumScores(updates: readonly Float32Array[], f: number): Float64Array {
  checkKrumCount(updates.length, f);
  const n = updates.length;
  return krumScoresAmong(pairwiseSquaredDistances(updates), n, [...Array(n).keys()], n - f - 2);
}

/** Indices of the m lowest scores, best first; equal scores keep index order (CollectAll sorts by client id). */
export function lowestScores(scores: Float64Array, m: number): number[] {
  return [...scores.keys()].sort((a, b) => scores[a]! - scores[b]! || a - b).slice(0, m);
}

/**
 * Multi-Krum (Blanchard, El Mhamdi, Guerraoui and Stainer 2017, "Machine Learning with Adversaries:
 * Byzantine Tolerant Gradient Descent", NeurIPS, section 4): score every update once, keep the m best and
 * average them, unweighted. m = 1 is Krum itself, which returns the best-scored update unchanged.
 */
export function multiKrum(updates: readonly Float32Array[], f: number, m: number): Float32Array {
  if (!(Number.isInteger(m) && m >= 1 && m <= updates.length)) throw new RangeError(`Multi-Krum keeps m in [1, ${updates.length}] updates, got ${m}`);
  const chosen = lowestScores(krumScores(updates, f), m).map((i) => updates[i]!);
  const size = chosen[0]!.length;
  const out = new Float32Array(size);
  for (let k = 0; k < size; k++) {
    let s = 0;
    for (const u of chosen) s += u[k]!;
    out[k] = s / m;
  }
  return out;
}

export interface KrumOptions extends FedAvgOptions {
  /** f: the number of Byzantine clients tolerated. Every counted round must have n > 2f + 2. */
  readonly byzantine: number;
  /** m: updates kept and averaged (Multi-Krum); 1 (the default) is Krum. At most minFitClients - f. */
  readonly keep?: number;
}

/**
 * Krum and Multi-Krum (Blanchard et al. 2017) as one strategy with m as a parameter. The bound n > 2f + 2
 * is checked against minFitClients, the fewest updates a counted round can have. Plain mode only.
 */
export class Krum extends RobustStrategy {
  override readonly name: string;
  /** f, the Byzantine clients tolerated. */
  readonly byzantine: number;
  /** m, the updates kept and averaged (1: Krum). */
  readonly keep: number;

  constructor(options: KrumOptions) {
    super(options);
    this.byzantine = checkInteger('byzantine (f)', options.byzantine, 0);
    this.keep = checkInteger('keep (m)', options.keep ?? 1, 1);
    const f = this.byzantine;
    if (!(this.minFitClients > 2 * f + 2)) {
      throw new StrategyConfigError(`Krum with byzantine f = ${f} needs n > 2f + 2 = ${2 * f + 2} clients in every round: raise minFitClients (${this.minFitClients}) to at least ${2 * f + 3}`);
    }
    if (this.keep > this.minFitClients - f) {
      throw new StrategyConfigError(`Multi-Krum keeps m <= minFitClients - f = ${this.minFitClients - f} updates (the ones that can be trusted in the smallest round), got ${this.keep}`);
    }
    this.name = this.keep === 1 ? 'krum' : 'multi-krum';
  }

  protected combine(updates: readonly Float32Array[]): Float32Array {
    return multiKrum(updates, this.byzantine, this.keep);
  }
}
