import { shuffleInPlace, type SeededRng } from '../../protocol/seededRng.js';

/**
 * Flower's cohort size rule: a fraction of the available clients, but at least `minimum`
 * (and never more than are available).
 */
export function cohortSize(available: number, fraction: number, minimum: number): number {
  return Math.min(available, Math.max(minimum, Math.ceil(available * fraction)));
}

/**
 * Samples a cohort uniformly without replacement, deterministically for a given random stream. The pool is
 * put in name order first: clients arrive in whatever order their connections complete (threads, network),
 * and the cohort must depend on the seed alone.
 */
export function sampleCohort<T extends { readonly name: string }>(clients: readonly T[], fraction: number, minimum: number, rng: SeededRng): T[] {
  const byName = [...clients].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return shuffleInPlace(byName, rng).slice(0, cohortSize(clients.length, fraction, minimum));
}
