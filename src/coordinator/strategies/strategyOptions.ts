import type { Strategy } from '../strategy.js';
import { StrategyConfigError } from './fedAvg.js';

/** The secure-aggregation modes a strategy may declare, as the Strategy interface spells them. */
export type SecureAggregationMode = Strategy['supportedModes'][number];

/** Sum-based rules need only the (weighted) mean delta, which every mode delivers. */
export const ALL_MODES: readonly SecureAggregationMode[] = ['plain', 'ckks', 'secagg'];
/** Rules that need every individual update: secure aggregation exists to hide exactly those. */
export const PLAIN_ONLY: readonly SecureAggregationMode[] = ['plain'];

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

/** A decay rate or fraction in [0, 1): momentum and moment decays, a trimmed fraction's double. */
export function checkHalfOpenUnit(name: string, v: number): number {
  if (!(v >= 0 && v < 1)) throw new StrategyConfigError(`${name} must be within [0, 1), got ${v}`);
  return v;
}

export function checkInteger(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new StrategyConfigError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}
