import { MIN_BITS, quantizationLevels } from '../../crypto/secagg/quantize.js';
import { effectiveDegree, thresholdRefusal } from './wire.js';

/** What an experiment configures for SecAgg+ (`secaggplus:` beside `secureAggregation: secaggplus`). */
export interface SecAggPlusOptions {
  /** k, each client's neighbours in the graph (even); default 2 ceil(1.5 log2 n), capped at n - 1 (the complete graph). */
  readonly neighbours?: number;
  /** t, the shares that reconstruct a client's secret: more than k / 2; default floor(2k / 3) + 1. */
  readonly threshold?: number;
  /** b, bits of the ring Z_(2^b) the encodings live in and of each value on the wire (packed); 8 to 32, default 32. */
  readonly bits?: number;
  /** Weighted update values beyond +-this are clipped (and counted) before quantization; default 8. */
  readonly clippingRange?: number;
}

/** The settings of one round, resolved for its cohort of n clients. */
export interface SecAggPlusRound {
  readonly neighbours: number;
  readonly degree: number;
  readonly threshold: number;
  readonly bits: number;
  readonly clippingRange: number;
}

/**
 * Checks the options once, at start: throws naming the setting to fix. `largestCohort`, when the coordinator
 * knows it (the clients on its allowlist), is the most members a round can have: t is checked against the degree
 * that round's graph really has (k, or n - 1 once k reaches it), not against k. Each round is checked again.
 */
export function checkSecAggPlusOptions(options: SecAggPlusOptions, largestCohort?: number): void {
  const { neighbours, threshold, bits, clippingRange } = options;
  if (neighbours !== undefined && !(Number.isInteger(neighbours) && neighbours >= 2 && neighbours <= 254 && neighbours % 2 === 0)) {
    throw new Error(`secaggplus.neighbours must be an even integer from 2 to 254, got ${neighbours}`);
  }
  if (threshold !== undefined && !(Number.isInteger(threshold) && threshold >= 2)) throw new Error(`secaggplus.threshold must be an integer of at least 2, got ${threshold}`);
  if (threshold !== undefined && neighbours !== undefined) {
    const degree = largestCohort !== undefined && largestCohort >= 3 ? effectiveDegree(neighbours, largestCohort) : neighbours;
    const refusal = thresholdRefusal(threshold, degree);
    const complete = degree < neighbours ? ` (with the ${largestCohort} clients allowed the graph is complete: ${degree} neighbours each)` : '';
    if (refusal) throw new Error(`secaggplus${complete}: ${refusal}`);
  }
  if (bits !== undefined && !(Number.isInteger(bits) && bits >= MIN_BITS && bits <= 32)) throw new Error(`secaggplus.bits must be an integer from ${MIN_BITS} to 32, got ${bits}`);
  if (clippingRange !== undefined && !(clippingRange > 0 && Number.isFinite(clippingRange))) throw new Error(`secaggplus.clippingRange must be a positive number, got ${clippingRange}`);
}

/** The round's settings for a cohort of `cohort` clients; throws when the cohort is too small to protect anyone. */
export function resolveRound(options: SecAggPlusOptions, cohort: number): SecAggPlusRound {
  if (cohort < 3) throw new Error(`SecAgg+ needs at least 3 clients in a round (with 2, each could subtract its own update from the sum), got ${cohort}`);
  const neighbours = options.neighbours ?? Math.min(254, 2 * Math.ceil(1.5 * Math.log2(cohort)));
  const degree = effectiveDegree(neighbours, cohort);
  const threshold = options.threshold ?? Math.floor((2 * degree) / 3) + 1;
  const refusal = thresholdRefusal(threshold, degree);
  if (refusal) throw new Error(`secaggplus with ${cohort} clients: ${refusal}`);
  const bits = options.bits ?? 32;
  const clippingRange = options.clippingRange ?? 8;
  // The ring must hold the cohort's sum without wrapping: throws naming the smallest b that does.
  quantizationLevels({ bits, range: clippingRange, cohort });
  return { neighbours, degree, threshold, bits, clippingRange };
}
