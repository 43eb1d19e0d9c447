import { logAdd, logSub } from './logSpace.js';
import { logErfc } from './logErfc.js';

/**
 * Rényi differential privacy of the Poisson-subsampled Gaussian mechanism: each record joins a step with
 * probability q, and the sum of the (L2-clipped, sensitivity 1) contributions gets N(0, sigma^2) noise, sigma being
 * the noise multiplier (noise standard deviation / clipping norm).
 *
 * Mironov, Talwar and Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism"
 * (arXiv:1908.10530), Section 3.3: for order alpha > 1 the RDP is log(A_alpha) / (alpha - 1) with
 *   A_alpha = E_{z ~ mu0} [((1 - q) + q mu1(z)/mu0(z))^alpha],  mu0 = N(0, sigma^2), mu1 = N(1, sigma^2).
 * Integer alpha: the binomial expansion A_alpha = sum_{i=0}^{alpha} C(alpha, i) (1-q)^(alpha-i) q^i exp((i^2 - i) / (2 sigma^2)).
 * Fractional alpha: the integral is split at z0 = sigma^2 log(1/q - 1) + 1/2, where the two terms of the mixture
 * cross, and each half is a convergent binomial series whose terms carry a Gaussian tail, written with erfc.
 * Both are summed in log space (the terms reach exp(alpha^2 / (2 sigma^2))) exactly as TF Privacy's
 * `_compute_log_a_int` / `_compute_log_a_frac` and Opacus' `analysis/rdp.py` do, including their stopping rule
 * (a term below exp(-30)), so the numbers agree with theirs to rounding.
 */

function checkArgs(q: number, sigma: number, order: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`the sampling rate q must be in [0, 1], got ${q}`);
  if (!(sigma >= 0)) throw new RangeError(`the noise multiplier sigma must be >= 0, got ${sigma}`);
  if (!(order > 1)) throw new RangeError(`a Rényi order must be > 1, got ${order}`);
}

/** log(A_alpha) for integer alpha >= 2 and 0 < q < 1. */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  let logA = -Infinity;
  let logBinom = 0; // log C(alpha, i), updated in place: C(alpha, i+1) = C(alpha, i) (alpha - i) / (i + 1)
  for (let i = 0; i <= alpha; i++) {
    const s = logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / twoVar;
    logA = logAdd(logA, s);
    logBinom += Math.log(alpha - i) - Math.log(i + 1);
  }
  return logA;
}

const LOG_HALF = Math.log(0.5);

/** log(A_alpha) for fractional alpha > 1 and 0 < q < 1. */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  const sqrt2Sigma = Math.SQRT2 * sigma;
  const z0 = sigma * sigma * (log1mQ - logQ) + 0.5; // sigma^2 log(1/q - 1) + 1/2
  // The two halves, integrals over (-inf, z0] and [z0, +inf), start at 0 (log -inf).
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let logAbsCoef = 0; // log |C(alpha, i)| for the generalised binomial coefficient
  let coefPositive = true;
  for (let i = 0; ; i++) {
    if (i > 1_000_000) throw new Error(`RDP series for order ${alpha} (q ${q}, sigma ${sigma}) did not converge`);
    const j = alpha - i;
    const logT0 = logAbsCoef + i * logQ + j * log1mQ;
    const logT1 = logAbsCoef + j * logQ + i * log1mQ;
    const logE0 = LOG_HALF + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = LOG_HALF + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + (i * i - i) / twoVar + logE0;
    const logS1 = logT1 + (j * j - j) / twoVar + logE1;
    if (coefPositive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
    const factor = alpha - i; // C(alpha, i+1) = C(alpha, i) (alpha - i) / (i + 1)
    logAbsCoef += Math.log(Math.abs(factor)) - Math.log(i + 1);
    if (factor < 0) coefPositive = !coefPositive;
  }
  return logAdd(logA0, logA1);
}

/**
 * RDP at one order of one step of the sampled Gaussian mechanism. q = 0 gives 0 (nothing is released about
 * anyone), q = 1 the plain Gaussian mechanism's alpha / (2 sigma^2), sigma = 0 or alpha = +Infinity gives Infinity.
 */
export function rdpSampledGaussian(q: number, sigma: number, order: number): number {
  checkArgs(q, sigma, order);
  if (q === 0) return 0;
  if (sigma === 0 || order === Infinity) return Infinity;
  if (q === 1) return order / (2 * sigma * sigma);
  const logA = Number.isInteger(order) ? logAInteger(q, sigma, order) : logAFractional(q, sigma, order);
  return logA / (order - 1);
}

/**
 * RDP at each order after `steps` steps of the sampled Gaussian mechanism: RDP composes additively at a fixed order,
 * so this is steps * rdp(alpha) (Mironov 2017, Proposition 1).
 */
export function rdpSampledGaussianSteps(q: number, sigma: number, steps: number, orders: readonly number[]): number[] {
  if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`steps must be a whole number >= 0, got ${steps}`);
  return orders.map((order) => {
    const r = rdpSampledGaussian(q, sigma, order);
    return r === 0 || steps === 0 ? 0 : steps * r;
  });
}
