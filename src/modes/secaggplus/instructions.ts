import { MIN_BITS } from '../../crypto/secagg/quantize.js';
import { TASK_EXTRAS, numberExtra } from '../../protocol/taskExtras.js';

/** What a SecAgg+ fit task tells a client: its weight in the sum and the quantization's parameters. */
export interface SecAggInstructions {
  readonly weight: number;
  readonly cohortSize: number;
  readonly clippingRange: number;
  readonly bits: number;
  /** Distributed DP: the clip norm C and each client's noise share, as a multiple of the encoding's sensitivity. */
  readonly dp?: { readonly clipNorm: number; readonly noiseShare: number };
}

/** The SecAgg+ terms a task's extras carry, or undefined for a task of another mode; throws on a malformed one. */
export function readSecAggInstructions(extra: Readonly<Record<string, unknown>> | undefined): SecAggInstructions | undefined {
  const weight = numberExtra(extra, TASK_EXTRAS.secaggWeight);
  if (weight === undefined) return undefined;
  const cohortSize = numberExtra(extra, TASK_EXTRAS.secaggCohortSize);
  const clippingRange = numberExtra(extra, TASK_EXTRAS.secaggClippingRange);
  const bits = numberExtra(extra, TASK_EXTRAS.secaggBits);
  if (!(weight > 0 && weight <= 1)) throw new Error(`a SecAgg+ task's weight must be in (0, 1], got ${weight}`);
  if (cohortSize === undefined || !Number.isInteger(cohortSize) || cohortSize < 3) throw new Error(`a SecAgg+ task's cohort must be an integer of at least 3, got ${cohortSize}`);
  if (clippingRange === undefined || !(clippingRange > 0 && Number.isFinite(clippingRange))) throw new Error(`a SecAgg+ task's clipping range must be positive, got ${clippingRange}`);
  if (bits === undefined || !(Number.isInteger(bits) && bits >= MIN_BITS && bits <= 32)) throw new Error(`a SecAgg+ task's ring must be an integer from ${MIN_BITS} to 32 bits, got ${bits}`);
  const clipNorm = numberExtra(extra, TASK_EXTRAS.clipNorm);
  const noiseShare = numberExtra(extra, TASK_EXTRAS.dpNoiseShare);
  if ((clipNorm === undefined) !== (noiseShare === undefined)) throw new Error('a SecAgg+ DP task needs both clipNorm and dpNoiseShare');
  if (clipNorm === undefined || noiseShare === undefined) return { weight, cohortSize, clippingRange, bits };
  // The DP grid and its accounting assume a 32-bit ring that never wraps (dpEncoding.ts): narrower rings are refused.
  if (bits !== 32) throw new Error(`a SecAgg+ DP task needs the 32-bit ring (its integer grid is sized for it), got ${bits} bits`);
  if (!(clipNorm > 0 && Number.isFinite(clipNorm)) || !(noiseShare >= 0 && Number.isFinite(noiseShare))) throw new Error(`a SecAgg+ DP task needs a positive clip norm and a noise share >= 0, got ${clipNorm} and ${noiseShare}`);
  return { weight, cohortSize, clippingRange, bits, dp: { clipNorm, noiseShare } };
}
