import { TASK_EXTRAS, numberExtra } from '../../protocol/taskExtras.js';
import { readEncryptedInstructions, type EncryptedInstructions } from '../../protocol/encryptedInstructions.js';
import type { ResolvedSecurityPolicy } from './securityPolicy.js';
import { readSecAggInstructions, type SecAggInstructions } from '../../modes/secaggplus/instructions.js';

/** A node's own local DP settings: noise it adds itself counts toward its floor, whatever the task says. */
export interface LocalNoise {
  readonly clipNorm: number;
  readonly noiseMultiplier: number;
}

/** What a fit task asks of this node, read from its instructions. */
export type FitTaskTerms =
  | { readonly mode: 'ckks'; readonly instructions: EncryptedInstructions }
  | { readonly mode: 'secaggplus'; readonly instructions: SecAggInstructions | undefined; readonly problem?: string }
  | { readonly mode: 'plain'; readonly clipNorm: number | undefined };

/**
 * The noise multiplier the aggregate carries if every one of `cohortSize` clients adds the share this task
 * asks for (distributed DP). With adaptive clipping the budget is split between the sum (z_delta) and the
 * count (sigma_b), and the guarantee is the z with z^-2 = z_delta^-2 + (2 sigma_b)^-2 (Andrew et al. 2021,
 * Theorem 1).
 */
export function instructedNoiseMultiplier(i: EncryptedInstructions): number {
  if (!i.dp || i.cohortSize === undefined) return 0;
  const root = Math.sqrt(i.cohortSize);
  const zDelta = i.dp.noiseShare * root;
  if (typeof i.dp.clipNorm === 'number') return zDelta;
  const sigmaB = i.dp.clipNorm.countNoiseShare * root;
  if (zDelta === 0 || sigmaB === 0) return 0;
  return 1 / Math.sqrt(zDelta ** -2 + (2 * sigmaB) ** -2);
}

function modeRefusal(policy: ResolvedSecurityPolicy, mode: 'plain' | 'ckks' | 'secaggplus', what: string): string | undefined {
  if (policy.mode && policy.mode !== mode) return `this node requires secure aggregation ${policy.mode}, and the coordinator sent a ${mode === 'plain' ? 'plaintext' : mode} ${what}`;
  return undefined;
}

/** The local DP floor holds by this node's own noise, whatever the task says. */
function localFloorHolds(policy: ResolvedSecurityPolicy, local: LocalNoise | undefined): boolean {
  if (!local) return false;
  return (policy.minNoiseMultiplier === undefined || local.noiseMultiplier >= policy.minNoiseMultiplier) && (policy.maxClipNorm === undefined || local.clipNorm <= policy.maxClipNorm);
}

/** Why this node refuses a fit task, or undefined when it accepts it. */
export function fitTaskRefusal(policy: ResolvedSecurityPolicy, terms: FitTaskTerms, local?: LocalNoise): string | undefined {
  const wrongMode = modeRefusal(policy, terms.mode, 'fit task');
  if (wrongMode) return wrongMode;
  if (terms.mode === 'secaggplus' && terms.problem) return terms.problem;
  const minBits = policy.secaggplus?.minBits;
  if (terms.mode === 'secaggplus' && minBits !== undefined && terms.instructions && terms.instructions.bits < minBits) {
    return `the task quantizes into a ring of ${terms.instructions.bits} bits, below this node's security.secaggplus.minBits ${minBits}`;
  }
  if ((policy.minNoiseMultiplier === undefined && policy.maxClipNorm === undefined) || localFloorHolds(policy, local)) return undefined;
  const { minNoiseMultiplier: minZ, maxClipNorm: maxC } = policy;
  if (terms.mode === 'secaggplus') {
    const s = terms.instructions!;
    if (!s.dp) return `the task adds no DP noise, and this node requires ${minZ !== undefined ? `a noise multiplier of at least ${minZ}` : `clipping to at most ${maxC}`}`;
    const m = s.cohortSize;
    if (policy.roster && m > policy.roster.size) return `the task claims a cohort of ${m} clients, more than the ${policy.roster.size} on this node's roster`;
    if (Math.abs(s.weight * m - 1) > 1e-9) return `under DP every client must weigh 1/${m}, and the task gives this node ${s.weight}`;
    const z = s.dp.noiseShare * Math.sqrt(m);
    if (minZ !== undefined && z < minZ) return `the task's noise multiplier is ${z.toPrecision(4)} (${m} shares of ${s.dp.noiseShare.toPrecision(4)}), below this node's minimum ${minZ}`;
    if (maxC !== undefined && s.dp.clipNorm > maxC) return `the task clips to ${s.dp.clipNorm}, above this node's maximum clip norm ${maxC}`;
    return undefined;
  }
  if (terms.mode === 'plain') {
    if (minZ !== undefined) {
      return `this node requires DP noise of at least ${minZ} x the clip norm; in plain mode the coordinator adds it, which this node cannot check (require mode ckks, or set this node's localPrivacy)`;
    }
    if (terms.clipNorm === undefined || terms.clipNorm > maxC!) return `the task clips to ${terms.clipNorm ?? 'no norm'}, above this node's maximum clip norm ${maxC}`;
    return undefined;
  }
  const i = terms.instructions;
  if (!i.dp) return `the task adds no DP noise, and this node requires ${minZ !== undefined ? `a noise multiplier of at least ${minZ}` : `clipping to at most ${maxC}`}`;
  const m = i.cohortSize;
  if (m === undefined) return 'the task does not say how many clients share the DP noise, so this node cannot check its floor';
  if (policy.roster && m > policy.roster.size) return `the task claims a cohort of ${m} clients, more than the ${policy.roster.size} on this node's roster`;
  // Each client's weight must be 1/m: a larger one would raise this node's part of the sum above the noise.
  if (Math.abs(i.weight * m - 1) > 1e-9) return `under DP every client must weigh 1/${m}, and the task gives this node ${i.weight}`;
  const z = instructedNoiseMultiplier(i);
  if (minZ !== undefined && z < minZ) return `the task's noise multiplier is ${z.toPrecision(4)} (${m} shares of ${i.dp.noiseShare.toPrecision(4)}), below this node's minimum ${minZ}`;
  const c = typeof i.dp.clipNorm === 'number' ? i.dp.clipNorm : i.dp.clipNorm.initialClipNorm;
  if (maxC !== undefined && c > maxC) return `the task clips to ${c}, above this node's maximum clip norm ${maxC}`;
  return undefined;
}

/** Why this node refuses to clip to an adaptive C that arrived encrypted, or undefined. */
export function clipNormRefusal(policy: ResolvedSecurityPolicy, clipNorm: number | undefined): string | undefined {
  if (policy.maxClipNorm === undefined || clipNorm === undefined || clipNorm <= policy.maxClipNorm) return undefined;
  return `the adaptive clip norm reached ${clipNorm.toPrecision(4)}, above this node's maximum clip norm ${policy.maxClipNorm}`;
}

/** Why this node refuses an evaluate task (or the final model) whose model arrives in `mode`, or undefined. */
export function evaluateTaskRefusal(policy: ResolvedSecurityPolicy, mode: 'plain' | 'ckks' | 'secaggplus', what = 'evaluate task'): string | undefined {
  // SecAgg+ protects uploads only: the coordinator holds the global model, which evaluate tasks carry in plaintext.
  if (policy.mode === 'secaggplus' && mode === 'plain') return undefined;
  return modeRefusal(policy, mode, what);
}

/** Why this node refuses to send its feature statistics, or undefined. */
export function statisticsRefusal(policy: ResolvedSecurityPolicy): string | undefined {
  if (policy.featureStatistics) return undefined;
  return 'this node does not let feature statistics leave (security.featureStatistics is off): they would travel in the clear, outside secure aggregation';
}

/** Reads what a fit task's instructions ask: CKKS terms when it carries them, else plaintext with its clip norm. */
export function fitTaskTerms(extra: Readonly<Record<string, unknown>> | undefined): FitTaskTerms {
  const instructions = readEncryptedInstructions(extra);
  if (instructions) return { mode: 'ckks', instructions };
  try {
    const secagg = readSecAggInstructions(extra);
    if (secagg) return { mode: 'secaggplus', instructions: secagg };
  } catch (e) {
    return { mode: 'secaggplus', instructions: undefined, problem: (e as Error).message };
  }
  return { mode: 'plain', clipNorm: numberExtra(extra, TASK_EXTRAS.clipNorm) };
}
