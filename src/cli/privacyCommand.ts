import { RDP_CONVERSIONS, type RdpConversion } from '../privacy/rdpConversion.js';
import { rdpEpsilon, initialRdpState, rdpStep } from '../privacy/rdpAccountant.js';
import { noiseMultiplierForEpsilon } from '../privacy/rdpNoiseMultiplier.js';
import { DEFAULT_RDP_ORDERS } from '../privacy/rdpOrders.js';
import { chargedMultiplier, REPLACE_ONE_SENSITIVITY } from '../coordinator/privacyLedger.js';

/**
 * `cohort privacy epsilon` and `cohort privacy sigma`: the RDP accountant from the command line, to plan a run's
 * privacy before starting it. Explanations first; the answer alone on the last line, as a plain number, so that
 * scripts can take it with `tail -n 1`.
 *
 * The adjacency: `replace-one` (the default) is what a run's client-level DP is charged with (privacyLedger.ts:
 * sensitivity 2C, so the accountant composes sigma / 2, at q = 1 since cohorts are public); `add-remove` is
 * record-level DP-SGD's (Poisson batches, sensitivity C) and local DP's.
 */

export const ADJACENCIES = ['replace-one', 'add-remove'] as const;
export type Adjacency = (typeof ADJACENCIES)[number];

export interface PrivacyEpsilonOptions {
  /** Sampling rate: the probability that a given client (or record) takes part in a round (step). */
  readonly q: number;
  /** Noise multiplier: noise standard deviation / clipping norm. */
  readonly sigma: number;
  readonly steps: number;
  readonly delta: number;
  /** 'improved' (default) or 'classic'. */
  readonly conversion?: string;
  /** 'replace-one' (default: client-level DP-FedAvg, as a run charges it) or 'add-remove' (DP-SGD, local DP). */
  readonly adjacency?: string;
}

export interface PrivacySigmaOptions {
  readonly epsilon: number;
  readonly q: number;
  readonly steps: number;
  readonly delta: number;
  readonly conversion?: string;
  readonly adjacency?: string;
}

/** An invalid command-line value; the message names the option. */
export class PrivacyOptionError extends Error {
  override readonly name = 'PrivacyOptionError';
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new PrivacyOptionError(message);
}

const isNumber = (v: number) => typeof v === 'number' && Number.isFinite(v);
/** How a bad value reads in a message: commander hands over Number('abc') as NaN. */
const shown = (v: number) => (typeof v === 'number' && Number.isNaN(v) ? 'something that is not a number' : String(v));

function checkQ(q: number): void {
  check(isNumber(q) && q > 0 && q <= 1, `--q must be a sampling rate in (0, 1] (clients per round / clients in all, or batch size / examples), got ${shown(q)}`);
}
function checkSteps(steps: number): void {
  check(isNumber(steps) && Number.isInteger(steps) && steps >= 1, `--steps must be a whole number >= 1 (rounds, or DP-SGD steps), got ${shown(steps)}`);
}
function checkDelta(delta: number): void {
  check(isNumber(delta) && delta > 0 && delta < 1, `--delta must be in (0, 1), typically below 1 / (number of clients or records), got ${shown(delta)}`);
}

export function parseConversion(value: string | undefined): RdpConversion {
  if (value === undefined) return 'improved';
  const found = RDP_CONVERSIONS.find((c) => c === value);
  if (found === undefined) throw new PrivacyOptionError(`--conversion must be one of ${RDP_CONVERSIONS.join(', ')}, got "${value}"`);
  return found;
}

export function parseAdjacency(value: string | undefined, q: number): Adjacency {
  const found = value === undefined ? 'replace-one' : ADJACENCIES.find((a) => a === value);
  if (found === undefined) throw new PrivacyOptionError(`--adjacency must be one of ${ADJACENCIES.join(', ')}, got "${value}"`);
  check(
    found === 'add-remove' || q === 1,
    `--adjacency replace-one (client-level DP-FedAvg${value === undefined ? ', the default' : ''}) is accounted at --q 1 only: cohorts are drawn from a public seed, so a run charges q = 1; got --q ${shown(q)}. ` +
      'For record-level DP-SGD (Poisson batches), give --adjacency add-remove',
  );
  return found;
}

function adjacencyLine(adjacency: Adjacency): string {
  return adjacency === 'replace-one'
    ? `adjacency: replace-one (one client's update replaced by another: sensitivity ${REPLACE_ONE_SENSITIVITY}C, so noise sigma x C is charged as multiplier sigma / ${REPLACE_ONE_SENSITIVITY}; client-level DP-FedAvg, as a run charges it)`
    : 'adjacency: add-remove (one record or client added or removed: sensitivity C; DP-SGD, local DP)';
}

function conversionLine(conversion: RdpConversion): string {
  return conversion === 'improved'
    ? 'conversion to (epsilon, delta): improved (Balle et al. 2020 / Canonne-Kamath-Steinke 2020, as current Opacus and TF Privacy)'
    : 'conversion to (epsilon, delta): classic (Mironov 2017, Proposition 3; looser, as older Opacus and TF Privacy)';
}

function orderLine(order: number): string {
  const min = DEFAULT_RDP_ORDERS[0]!;
  const max = DEFAULT_RDP_ORDERS[DEFAULT_RDP_ORDERS.length - 1]!;
  const edge = order === min || order === max ? ' (the edge of the grid: a wider grid might give a smaller epsilon)' : '';
  return `optimal Rényi order: ${order} of ${DEFAULT_RDP_ORDERS.length} orders from ${min} to ${max}${edge}`;
}

/** Prints the epsilon spent by `steps` steps of the Poisson-subsampled Gaussian mechanism; epsilon is the last line. */
export function runPrivacyEpsilon(options: PrivacyEpsilonOptions, print: (line: string) => void): number {
  const { q, sigma, steps, delta } = options;
  checkQ(q);
  check(isNumber(sigma) && sigma > 0, `--sigma must be a noise multiplier > 0 (noise standard deviation / clipping norm), got ${shown(sigma)}`);
  checkSteps(steps);
  checkDelta(delta);
  const conversion = parseConversion(options.conversion);
  const adjacency = parseAdjacency(options.adjacency, q);
  const charged = adjacency === 'replace-one' ? chargedMultiplier(sigma) : sigma;
  const { epsilon, order } = rdpEpsilon(rdpStep(initialRdpState(), q, charged, steps), delta, conversion);
  print(`Poisson-subsampled Gaussian mechanism: sampling rate q = ${q}, noise multiplier sigma = ${sigma}, ${steps} steps, delta = ${delta}`);
  print(adjacencyLine(adjacency));
  print('accountant: Rényi DP of the sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019), composed over the steps');
  print(conversionLine(conversion));
  print(orderLine(order));
  print(`epsilon (at delta = ${delta}):`);
  print(String(epsilon));
  return epsilon;
}

/** Prints the smallest noise multiplier that keeps `steps` steps within (epsilon, delta); sigma is the last line. */
export function runPrivacySigma(options: PrivacySigmaOptions, print: (line: string) => void): number {
  const { epsilon: target, q, steps, delta } = options;
  check(isNumber(target) && target > 0, `--epsilon must be a target epsilon > 0, got ${shown(target)}`);
  checkQ(q);
  checkSteps(steps);
  checkDelta(delta);
  const conversion = parseConversion(options.conversion);
  const adjacency = parseAdjacency(options.adjacency, q);
  let found: ReturnType<typeof noiseMultiplierForEpsilon>;
  try {
    found = noiseMultiplierForEpsilon({ epsilon: target, q, steps, delta, conversion });
  } catch (e) {
    throw new PrivacyOptionError(e instanceof Error ? e.message : String(e));
  }
  // Replace-one charges sigma / 2: the smallest sigma reaching the target is twice the add/remove one.
  if (adjacency === 'replace-one') found = { ...found, sigma: found.sigma * REPLACE_ONE_SENSITIVITY };
  print(`target: epsilon = ${target} at delta = ${delta}, for ${steps} steps at sampling rate q = ${q}`);
  print(adjacencyLine(adjacency));
  print('accountant: Rényi DP of the sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019), composed over the steps');
  print(conversionLine(conversion));
  print(`the smallest noise multiplier reaching it gives epsilon ${found.epsilon} (optimal Rényi order ${found.order}); noise std = sigma x clipping norm`);
  print('noise multiplier sigma:');
  print(String(found.sigma));
  return found.sigma;
}
