/**
 * log(erfc(x)) to near double precision for every real x, including large x where erfc(x) itself underflows
 * (erfc(27) < 1e-317, erfc(x) is 0 in doubles beyond x = 27.3) but its logarithm, about -x^2, is what the
 * fractional-order RDP series needs. Node has no erf, so it is built here from three pieces, each used where it is
 * accurate and fast:
 *  - |x| < 2: the series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)) (Abramowitz & Stegun
 *    7.1.6), whose terms are all positive (no cancellation); erfc = 1 - erf loses at most ~2.3 digits at x = 2.
 *  - 2 <= x < 10: Laplace's continued fraction sqrt(pi) exp(x^2) erfc(x) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
 *    (A&S 7.1.14), evaluated by the modified Lentz method; it converges in a few dozen steps at x = 2, fewer above.
 *  - x >= 10: the asymptotic expansion erfc(x) = exp(-x^2)/(x sqrt(pi)) sum_n (-1)^n (2n-1)!!/(2x^2)^n (A&S 7.1.23),
 *    summed while its terms shrink below 1e-17 of the sum (about 12 terms at x = 10, 3 at x = 1e4; the smallest term
 *    is far below that for x >= 10, so truncation costs nothing).
 * The result is log-space throughout for x >= 2: log erfc(x) = -x^2 + log(sqrt(pi) exp(x^2) erfc(x)) - log(sqrt(pi)).
 */

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SERIES_LIMIT = 2;
const ASYMPTOTIC_FROM = 10;

/** erf(x) for 0 <= x < SERIES_LIMIT. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** log(sqrt(pi) exp(x^2) erfc(x)) for SERIES_LIMIT <= x < ASYMPTOTIC_FROM, by the continued fraction. */
function logScaledErfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = f;
  let d = 0;
  for (let j = 1; j < 5000; j++) {
    const a = j / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const step = c * d;
    f *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return -Math.log(f);
}

/** log(sqrt(pi) exp(x^2) erfc(x)) for x >= ASYMPTOTIC_FROM, by the asymptotic series. */
function logScaledErfcAsymptotic(x: number): number {
  const inv = 1 / (2 * x * x);
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 60; n++) {
    const next = -term * (2 * n - 1) * inv;
    if (Math.abs(next) >= Math.abs(term)) break; // past the smallest term (never for x >= 10 before 1e-17)
    term = next;
    sum += term;
    if (Math.abs(term) < 1e-17 * sum) break;
  }
  return Math.log(sum) - Math.log(x);
}

/** log(erfc(x)) for x >= 0. */
function logErfcNonNegative(x: number): number {
  if (x < SERIES_LIMIT) return Math.log1p(-erfSeries(x));
  const scaled = x < ASYMPTOTIC_FROM ? logScaledErfcFraction(x) : logScaledErfcAsymptotic(x);
  return -x * x + scaled - LOG_SQRT_PI;
}

/** The natural logarithm of the complementary error function, erfc(x) = 2/sqrt(pi) * integral_x^inf exp(-t^2) dt. */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x >= 0) return logErfcNonNegative(x);
  // erfc(x) = 2 - erfc(-x) = 1 + erf(-x), in (1, 2]: no precision problem on this side.
  const y = -x;
  if (y < SERIES_LIMIT) return Math.log1p(erfSeries(y));
  return Math.log(2 - Math.exp(logErfcNonNegative(y)));
}

/** erfc(x); 0 where it underflows (x > 27.2), which is why the accountant works with logErfc. */
export function erfc(x: number): number {
  return Math.exp(logErfc(x));
}
