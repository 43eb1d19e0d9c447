import { shuffleInPlace, type SeededRng } from '../../protocol/seededRng.js';

/**
 * Flower's cohort size rule: a fraction of the available clients, but at least `minimum`
 * (and never more than are available).
 */
export function cohortSize(available: number, fraction: number, minimum: number): number {
  return Math.min(available, Math.max(minimum, Math.ceil(available * fraction)));
}

/** Samples a cohort uniformly without replacement, deterministically for a given random stream. */
export function sampleCohort<T>(clients: readonly T[], fraction: number, minimum: number, rng: SeededRng): T[] {
  return shuffleInPlace([...clients], rng).slice(0, cohortSize(clients.length, fraction, minimum));
}
