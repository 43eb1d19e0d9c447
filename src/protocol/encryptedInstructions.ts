import type { EncryptedLayout } from './encryptedLayout.js';
import { TASK_EXTRAS } from './taskExtras.js';

/**
 * What a CKKS fit task tells a client beyond plain training, carried in `FitInstructions.extra` (flat
 * numbers, so the wire schema stays as it is). The coordinator cannot run a server step on ciphertexts, so
 * it hands the step to the clients: each uploads weight x (its part of the next state), and the weighted
 * mean of those parts is the next global, momentum and clip norm.
 */
export interface EncryptedInstructions {
  /** This client's share of the round's weight: examples / cohort examples, or 1/m under DP. */
  readonly weight: number;
  /** m, the clients the round's task went to: under DP their noise shares add up to the multiplier z. */
  readonly cohortSize?: number;
  /** The strategy's step, applied by the clients: w <- w + lr * v, v <- beta * v + mean delta (beta 0: v = mean delta). */
  readonly serverLearningRate: number;
  readonly serverMomentum: number;
  /** Distributed client-level DP: clip to C, add noise of std noiseShare * C (the m shares sum to multiplier z). */
  readonly dp?: {
    /** A fixed C, or adaptive clipping (C travels encrypted as log C). */
    readonly clipNorm: number | { readonly initialClipNorm: number; readonly targetQuantile: number; readonly learningRate: number; readonly countNoiseShare: number };
    readonly noiseShare: number;
  };
}

const KEYS = {
  weight: TASK_EXTRAS.ckksWeight,
  cohortSize: TASK_EXTRAS.ckksCohortSize,
  serverLearningRate: TASK_EXTRAS.ckksServerLearningRate,
  serverMomentum: TASK_EXTRAS.ckksServerMomentum,
  clipNorm: TASK_EXTRAS.clipNorm,
  noiseShare: TASK_EXTRAS.dpNoiseShare,
  initialClipNorm: TASK_EXTRAS.clipInitialNorm,
  targetQuantile: TASK_EXTRAS.clipTargetQuantile,
  clipLearningRate: TASK_EXTRAS.clipLearningRate,
  countNoiseShare: TASK_EXTRAS.clipCountNoiseShare,
} as const;

/** The instructions as `extra` entries. */
export function encryptedExtras(i: EncryptedInstructions): Record<string, number> {
  const out: Record<string, number> = { [KEYS.weight]: i.weight };
  if (i.cohortSize !== undefined) out[KEYS.cohortSize] = i.cohortSize;
  if (i.serverLearningRate !== 1) out[KEYS.serverLearningRate] = i.serverLearningRate;
  if (i.serverMomentum !== 0) out[KEYS.serverMomentum] = i.serverMomentum;
  if (i.dp) {
    out[KEYS.noiseShare] = i.dp.noiseShare;
    const c = i.dp.clipNorm;
    if (typeof c === 'number') out[KEYS.clipNorm] = c;
    else Object.assign(out, { [KEYS.initialClipNorm]: c.initialClipNorm, [KEYS.targetQuantile]: c.targetQuantile, [KEYS.clipLearningRate]: c.learningRate, [KEYS.countNoiseShare]: c.countNoiseShare });
  }
  return out;
}

function numberAt(extra: Readonly<Record<string, unknown>>, key: string, check: (v: number) => boolean, what: string): number | undefined {
  const v = extra[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw new Error(`CKKS fit instructions: ${key} must be ${what}, got ${String(v)}`);
  return v;
}

/** Reads a fit task's CKKS instructions; undefined for a plaintext task. Throws on values no step can use. */
export function readEncryptedInstructions(extra: Readonly<Record<string, unknown>> | undefined): EncryptedInstructions | undefined {
  if (!extra || extra[KEYS.weight] === undefined) return undefined;
  const positive = (v: number) => v > 0;
  const weight = numberAt(extra, KEYS.weight, (v) => v > 0 && v <= 1, 'in (0, 1]')!;
  const serverLearningRate = numberAt(extra, KEYS.serverLearningRate, positive, 'positive') ?? 1;
  const serverMomentum = numberAt(extra, KEYS.serverMomentum, (v) => v >= 0 && v < 1, 'in [0, 1)') ?? 0;
  const noiseShare = numberAt(extra, KEYS.noiseShare, (v) => v >= 0, '>= 0');
  const fixed = numberAt(extra, KEYS.clipNorm, positive, 'positive');
  const initialClipNorm = numberAt(extra, KEYS.initialClipNorm, positive, 'positive');
  const cohortSize = numberAt(extra, KEYS.cohortSize, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  const base = { weight, serverLearningRate, serverMomentum, ...(cohortSize !== undefined ? { cohortSize } : {}) };
  if (noiseShare === undefined) {
    if (fixed !== undefined || initialClipNorm !== undefined) throw new Error(`CKKS fit instructions: a clip norm without ${KEYS.noiseShare}`);
    return base;
  }
  if (initialClipNorm === undefined) {
    if (fixed === undefined) throw new Error(`CKKS fit instructions: DP noise without a clip norm (${KEYS.clipNorm} or ${KEYS.initialClipNorm})`);
    return { ...base, dp: { clipNorm: fixed, noiseShare } };
  }
  const adaptive = {
    initialClipNorm,
    targetQuantile: numberAt(extra, KEYS.targetQuantile, (v) => v >= 0 && v <= 1, 'in [0, 1]') ?? 0.5,
    learningRate: numberAt(extra, KEYS.clipLearningRate, positive, 'positive') ?? 0.2,
    countNoiseShare: numberAt(extra, KEYS.countNoiseShare, (v) => v >= 0, '>= 0') ?? 0,
  };
  return { ...base, dp: { clipNorm: adaptive, noiseShare } };
}

/** The layout an upload for these instructions must have. */
export function instructedLayout(i: EncryptedInstructions, parameters: number): EncryptedLayout {
  return { parameters, momentum: i.serverMomentum > 0, logClipNorm: i.dp !== undefined && typeof i.dp.clipNorm !== 'number' };
}
