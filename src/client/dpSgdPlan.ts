import type { RdpConversion } from '../privacy/rdpConversion.js';
import { noiseMultiplierForEpsilon } from '../privacy/rdpNoiseMultiplier.js';
import type { DpSgdOptions } from './dpSgd.js';

/** A hospital's DP-SGD request: the clip norm and delta, and either the noise or the epsilon the whole run may spend. */
export interface DpSgdRequest {
  /** C, the per-example clip norm. */
  readonly clipNorm: number;
  /** The delta epsilon is reported at. */
  readonly delta: number;
  /** z, used as given; the run's epsilon is then whatever the accountant finds. */
  readonly noiseMultiplier?: number;
  /** The record-level epsilon the whole run may spend: z is the smallest that keeps every planned step within it. */
  readonly epsilon?: number;
  /** How RDP converts to (epsilon, delta) (default `improved`). */
  readonly conversion?: RdpConversion;
}

/** What the node will run: its records, the round's batch and steps, and the rounds planned. */
export interface DpSgdRun {
  /** n, this node's training records. */
  readonly trainRows: number;
  /** The expected batch size (q n). */
  readonly batchSize: number;
  /** Rounds the run plans. */
  readonly rounds: number;
  /** Optimizer steps per round: FitConfig.maxSteps, or epochs x ceil(n / batch) as the trainer counts them. */
  readonly stepsPerRound: number;
}

/** The DP-SGD settings a run needs, with the sampling rate and step count they assume. */
export interface DpSgdPlan {
  /** What TfjsTrainer takes as `dpSgd`. */
  readonly options: DpSgdOptions;
  /** q = batch / n, each step's Poisson rate. */
  readonly sampleRate: number;
  /** Every step the run plans. */
  readonly steps: number;
}

/**
 * Turns a request into the trainer's options for a known run: q = min(batch, n) / n and rounds x stepsPerRound
 * steps, as the trainer will take and account them. With `epsilon`, z comes from `noiseMultiplierForEpsilon` and
 * epsilon becomes the node's budget, so an extra round the plan did not count is refused rather than overspent.
 */
export function planDpSgd(request: DpSgdRequest, run: DpSgdRun): DpSgdPlan {
  if ((request.noiseMultiplier === undefined) === (request.epsilon === undefined)) throw new Error('DP-SGD needs exactly one of noiseMultiplier and epsilon');
  if (!(Number.isInteger(run.trainRows) && run.trainRows >= 1)) throw new RangeError(`DP-SGD needs training records, got ${run.trainRows}`);
  const sampleRate = Math.min(run.batchSize, run.trainRows) / run.trainRows;
  const steps = run.rounds * run.stepsPerRound;
  const conversion = request.conversion ?? 'improved';
  const base = { clipNorm: request.clipNorm, delta: request.delta, conversion };
  if (request.noiseMultiplier !== undefined) return { options: { ...base, noiseMultiplier: request.noiseMultiplier }, sampleRate, steps };
  const epsilon = request.epsilon!;
  const { sigma } = noiseMultiplierForEpsilon({ epsilon, delta: request.delta, q: sampleRate, steps, conversion });
  // The budget check composes round by round (15 x 100 steps) where the search composed 1500 steps at once: the
  // 1e-12 relative slack absorbs that rounding, so the planned last round is never refused.
  return { options: { ...base, noiseMultiplier: sigma, targetEpsilon: epsilon * (1 + 1e-12) }, sampleRate, steps };
}
