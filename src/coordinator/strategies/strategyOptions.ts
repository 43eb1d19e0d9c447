import { StrategyConfigError, type FedAvgOptions } from './fedAvg.js';

/** A finite number > 0 (learning rates, tau). */
export function checkPositive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new StrategyConfigError(`${name} must be a positive finite number, got ${v}`);
  return v;
}

/** A finite number >= 0 (FedProx's mu). */
export function checkNonNegative(name: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new StrategyConfigError(`${name} must be a finite number >= 0, got ${v}`);
  return v;
}

/** A decay rate in [0, 1): server momentum, the moment decays beta1 and beta2. */
export function checkHalfOpenUnit(name: string, v: number): number {
  if (!(v >= 0 && v < 1)) throw new StrategyConfigError(`${name} must be within [0, 1), got ${v}`);
  return v;
}

export function checkInteger(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new StrategyConfigError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** For strategies whose rule fixes the aggregator: a caller's `aggregator` would be ignored, so it is refused. */
export function refuseAggregatorOption(strategy: string, options: FedAvgOptions, why: string): void {
  if (options.aggregator !== undefined) throw new StrategyConfigError(`${strategy} does not take the aggregator option: ${why}`);
}
