/**
 * Arithmetic on numbers held as their natural logarithms, so that the RDP sums of terms like
 * exp((i^2 - i) / (2 sigma^2)) neither overflow nor underflow. Zero is -Infinity.
 */

/** log(exp(logX) + exp(logY)). */
export function logAdd(logX: number, logY: number): number {
  const a = Math.min(logX, logY);
  const b = Math.max(logX, logY);
  if (a === -Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log(exp(logX) - exp(logY)); the difference must not be negative (logX >= logY). */
export function logSub(logX: number, logY: number): number {
  if (logX < logY) throw new RangeError(`logSub: the difference would be negative (log ${logX} - log ${logY})`);
  if (logY === -Infinity) return logX;
  if (logX === logY) return -Infinity;
  // exp(x) - exp(y) = exp(x) (1 - exp(y - x)): no overflow whatever the magnitudes.
  return logX + Math.log(-Math.expm1(logY - logX));
}
