import { epsilonFromRdp, type RdpConversion } from './rdpConversion.js';
import { DEFAULT_RDP_ORDERS } from './rdpOrders.js';
import { rdpSampledGaussianSteps } from './rdpSampledGaussian.js';

/**
 * The inverse of the accountant: the smallest noise multiplier sigma whose `steps` steps at sampling rate q stay
 * within (epsilon, delta). epsilon is non-increasing in sigma (the RDP of the sampled Gaussian mechanism decreases
 * with sigma at every order), so a bisection on sigma finds it: first a bracket [lo, hi] by halving or doubling from
 * sigma = 1, with epsilon(lo) > target >= epsilon(hi), then bisection (on log sigma) until hi/lo - 1 < 1e-9. The
 * answer is hi, so epsilon(answer) <= target always holds; it exceeds the exact threshold by a relative 1e-9 at most.
 */

/** What noiseMultiplierForEpsilon is asked: the target, the sampling rate and the steps. */
export interface NoiseMultiplierQuery {
  /** The target epsilon. */
  readonly epsilon: number;
  /** The sampling rate of each step, in (0, 1]. */
  readonly q: number;
  /** Steps (rounds) planned. */
  readonly steps: number;
  /** The delta epsilon is measured at. */
  readonly delta: number;
  /** How RDP converts to (epsilon, delta) (default `improved`). */
  readonly conversion?: RdpConversion;
  /** Rényi orders (default `DEFAULT_RDP_ORDERS`). */
  readonly orders?: readonly number[];
}

/** The noise multiplier found, with its epsilon and order. */
export interface NoiseMultiplierResult {
  /** The noise multiplier (noise std / clipping norm). */
  readonly sigma: number;
  /** epsilon at that sigma (<= the target). */
  readonly epsilon: number;
  /** The Rényi order that gave it. */
  readonly order: number;
}

/** Beyond this the search gives up: the target is unreachable (or needs absurd noise). Opacus stops at 1e6 too. */
export const MAX_NOISE_MULTIPLIER = 1e6;
/** Below this the search stops looking for a smaller sigma. */
export const MIN_NOISE_MULTIPLIER = 1e-3;
const RELATIVE_TOLERANCE = 1e-9;

/** The smallest noise multiplier that keeps `steps` steps at rate q within (epsilon, delta); throws when none up to 1e6 does. */
export function noiseMultiplierForEpsilon(query: NoiseMultiplierQuery): NoiseMultiplierResult {
  const { epsilon: target, q, steps, delta } = query;
  const conversion = query.conversion ?? 'improved';
  const orders = query.orders ?? DEFAULT_RDP_ORDERS;
  if (!(target > 0 && target < Infinity)) throw new RangeError(`the target epsilon must be > 0 and finite, got ${target}`);
  if (!(q > 0 && q <= 1)) throw new RangeError(`the sampling rate q must be in (0, 1], got ${q}`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps must be a whole number >= 1, got ${steps}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);

  const at = (sigma: number) => ({ sigma, ...epsilonFromRdp(orders, rdpSampledGaussianSteps(q, sigma, steps, orders), delta, conversion) });

  let hi = at(1);
  let lo: ReturnType<typeof at>;
  if (hi.epsilon <= target) {
    lo = at(0.5);
    while (lo.epsilon <= target) {
      if (lo.sigma < MIN_NOISE_MULTIPLIER) return lo; // epsilon this large is reached with next to no noise
      hi = lo;
      lo = at(lo.sigma / 2);
    }
  } else {
    lo = hi;
    while (hi.epsilon > target) {
      if (hi.sigma >= MAX_NOISE_MULTIPLIER) {
        throw new RangeError(
          `epsilon ${target} at delta ${delta} is unreachable for ${steps} steps at q = ${q} with the ${conversion} conversion: ` +
            `even sigma = ${hi.sigma} gives epsilon ${hi.epsilon} (${conversion === 'classic' ? 'the classic conversion cannot go below min over orders of -log(delta)/(alpha-1); ' : ''}` +
            `raise epsilon or delta, or take fewer steps)`,
        );
      }
      lo = hi;
      hi = at(hi.sigma * 2);
    }
  }
  while (hi.sigma / lo.sigma - 1 > RELATIVE_TOLERANCE) {
    const mid = at(Math.sqrt(lo.sigma * hi.sigma));
    if (mid.epsilon <= target) hi = mid;
    else lo = mid;
  }
  return { sigma: hi.sigma, epsilon: hi.epsilon, order: hi.order };
}
