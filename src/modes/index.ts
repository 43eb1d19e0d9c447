import type { StrategyCapabilities } from '../coordinator/strategy.js';
import { ckksMode } from './ckks/coordinator.js';
import type { ModeDefinition, SecureModeName } from './mode.js';
import { plainMode } from './plain/coordinator.js';
import { secaggPlusMode } from './secaggplus/coordinator.js';

/** Every secure-aggregation mode, by name: a new mode is a new folder and one entry here. */
export const MODES: Readonly<Record<SecureModeName, ModeDefinition>> = { plain: plainMode, ckks: ckksMode, secaggplus: secaggPlusMode };

/** The modes a strategy with these capabilities runs in, derived from each mode's own rule. */
export function modesFor(capabilities: StrategyCapabilities): SecureModeName[] {
  return Object.values(MODES)
    .filter((m) => m.refusal(capabilities) === undefined)
    .map((m) => m.name);
}

export { refuseUnacceptedRisks } from './acceptedRisks.js';
export type { CoordinatorMode, ModeContext, ModeDefinition, SecureModeName } from './mode.js';
export type { SecAggPlusOptions } from './secaggplus/settings.js';
