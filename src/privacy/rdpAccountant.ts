import { epsilonFromRdp, type EpsilonAtOrder, type RdpConversion } from './rdpConversion.js';
import { DEFAULT_RDP_ORDERS } from './rdpOrders.js';
import { rdpSampledGaussianSteps } from './rdpSampledGaussian.js';

/**
 * The RDP accountant: composes rounds (or DP-SGD steps) of the Poisson-subsampled Gaussian mechanism and converts
 * the total to (epsilon, delta). Its state is a plain immutable value, JSON as it is, so a checkpoint stores it and
 * a resumed run restores it with `RdpAccountant.fromState`.
 */

/** One run of identical steps: sampling rate q, noise multiplier sigma (noise std / clipping norm). */
export interface RdpLedgerEntry {
  /** Sampling rate of each step. */
  readonly q: number;
  /** Noise multiplier of each step. */
  readonly sigma: number;
  /** How many such steps. */
  readonly steps: number;
}

/** The accountant's whole state, JSON-ready: RDP per order and the ledger of steps that produced it. */
export interface RdpState {
  /** The Rényi orders tracked (all > 1). */
  readonly orders: readonly number[];
  /** Accumulated RDP at each order: RDP composes by addition at a fixed order. */
  readonly rdp: readonly number[];
  /** What was composed, consecutive identical (q, sigma) merged, for audit and for recomputing on other orders. */
  readonly ledger: readonly RdpLedgerEntry[];
}

/** A privacy budget: training stops before the round that would take epsilon (at this delta) above `epsilon`. */
export interface PrivacyBudget {
  /** The most epsilon training may reach. */
  readonly epsilon: number;
  /** The delta it is measured at. */
  readonly delta: number;
  /** How RDP converts to (epsilon, delta) (default `improved`). */
  readonly conversion?: RdpConversion;
}

/** The answer to "may the next steps run?". */
export interface BudgetCheck {
  /** True when running the planned steps would take epsilon above the budget: do not run them. */
  readonly exceeds: boolean;
  /** epsilon after the planned steps, at the budget's delta. */
  readonly epsilon: number;
  /** The Rényi order that gave it. */
  readonly order: number;
}

function checkStep(q: number, sigma: number, steps: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`the sampling rate q must be in [0, 1], got ${q}`);
  if (!(sigma > 0 && sigma < Infinity)) throw new RangeError(`the noise multiplier sigma must be > 0 and finite, got ${sigma}`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps must be a whole number >= 1, got ${steps}`);
}

function checkBudget(budget: PrivacyBudget): void {
  if (!(budget.epsilon > 0 && budget.epsilon < Infinity)) throw new RangeError(`the budget's epsilon must be > 0 and finite, got ${budget.epsilon}`);
  if (!(budget.delta > 0 && budget.delta < 1)) throw new RangeError(`the budget's delta must be in (0, 1), got ${budget.delta}`);
}

/** An accountant state with nothing spent, on these Rényi orders (default `DEFAULT_RDP_ORDERS`). */
export function initialRdpState(orders: readonly number[] = DEFAULT_RDP_ORDERS): RdpState {
  if (orders.length === 0) throw new RangeError('the accountant needs at least one Rényi order');
  for (const order of orders) if (!(order > 1 && order < Infinity)) throw new RangeError(`a Rényi order must be > 1 and finite, got ${order}`);
  return Object.freeze({ orders: Object.freeze([...orders]), rdp: Object.freeze(orders.map(() => 0)), ledger: Object.freeze([]) });
}

// The RDP of one step at the last (orders, q, sigma) seen: a run repeats the same setting every round, and
// wouldExceed followed by step computes it twice. Invisible to callers (same numbers, no shared state exposed).
let lastStep: { orders: readonly number[]; q: number; sigma: number; rdp: readonly number[] } | undefined;

function oneStepRdp(orders: readonly number[], q: number, sigma: number): readonly number[] {
  if (lastStep && lastStep.orders === orders && lastStep.q === q && lastStep.sigma === sigma) return lastStep.rdp;
  const rdp = rdpSampledGaussianSteps(q, sigma, 1, orders);
  lastStep = { orders, q, sigma, rdp };
  return rdp;
}

/** The state after `steps` more steps at sampling rate q and noise multiplier sigma; `state` is left as it was. */
export function rdpStep(state: RdpState, q: number, sigma: number, steps = 1): RdpState {
  checkStep(q, sigma, steps);
  const perStep = oneStepRdp(state.orders, q, sigma);
  const rdp = state.rdp.map((r, k) => r + steps * perStep[k]!);
  const last = state.ledger[state.ledger.length - 1];
  const ledger =
    last && last.q === q && last.sigma === sigma
      ? [...state.ledger.slice(0, -1), Object.freeze({ q, sigma, steps: last.steps + steps })]
      : [...state.ledger, Object.freeze({ q, sigma, steps })];
  return Object.freeze({ orders: state.orders, rdp: Object.freeze(rdp), ledger: Object.freeze(ledger) });
}

/** (epsilon, optimal order) of the state at `delta`. */
export function rdpEpsilon(state: RdpState, delta: number, conversion: RdpConversion = 'improved'): EpsilonAtOrder {
  return epsilonFromRdp(state.orders, state.rdp, delta, conversion);
}

/** Whether `steps` more steps at (q, sigma) would take the state's epsilon above the budget. */
export function rdpWouldExceed(state: RdpState, budget: PrivacyBudget, q: number, sigma: number, steps = 1): BudgetCheck {
  checkBudget(budget);
  const { epsilon, order } = rdpEpsilon(rdpStep(state, q, sigma, steps), budget.delta, budget.conversion ?? 'improved');
  return { exceeds: epsilon > budget.epsilon, epsilon, order };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumberArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/** Checks a stored state (from a checkpoint's JSON) and returns it frozen; throws saying what is wrong. */
export function parseRdpState(value: unknown): RdpState {
  if (!isRecord(value)) throw new TypeError('an RDP accountant state must be an object with orders, rdp and ledger');
  const { orders, rdp, ledger } = value;
  if (!isNumberArray(orders) || orders.length === 0) throw new TypeError('RDP state: orders must be a non-empty array of numbers');
  if (!isNumberArray(rdp) || rdp.length !== orders.length) throw new TypeError('RDP state: rdp must be an array of numbers, one per order');
  if (!Array.isArray(ledger)) throw new TypeError('RDP state: ledger must be an array');
  orders.forEach((order) => {
    if (!(order > 1 && order < Infinity)) throw new RangeError(`RDP state: a Rényi order must be > 1 and finite, got ${order}`);
  });
  rdp.forEach((r, k) => {
    if (!(r >= 0 && r < Infinity)) throw new RangeError(`RDP state: the RDP at order ${orders[k]} must be >= 0 and finite, got ${r}`);
  });
  const entries = ledger.map((entry: unknown, k): RdpLedgerEntry => {
    if (!isRecord(entry) || typeof entry.q !== 'number' || typeof entry.sigma !== 'number' || typeof entry.steps !== 'number') {
      throw new TypeError(`RDP state: ledger entry ${k} must be { q, sigma, steps } numbers`);
    }
    checkStep(entry.q, entry.sigma, entry.steps);
    return Object.freeze({ q: entry.q, sigma: entry.sigma, steps: entry.steps });
  });
  if (entries.length === 0 && rdp.some((r) => r !== 0)) throw new RangeError('RDP state: non-zero RDP with an empty ledger');
  return Object.freeze({ orders: Object.freeze([...orders]), rdp: Object.freeze([...rdp]), ledger: Object.freeze(entries) });
}

/**
 * Immutable wrapper over an `RdpState`: `step` returns a new accountant (whose `state` is the new value) and
 * never changes this one, so the state can ride in a checkpoint and two branches of a computation cannot
 * interfere.
 */
export class RdpAccountant {
  /** The composed RDP and its ledger (frozen). */
  readonly state: RdpState;

  constructor(state: RdpState = initialRdpState()) {
    this.state = state;
  }

  /** A fresh accountant on the given orders (default: `DEFAULT_RDP_ORDERS`). */
  static withOrders(orders: readonly number[]): RdpAccountant {
    return new RdpAccountant(initialRdpState(orders));
  }

  /** Restores an accountant from a stored state (e.g. a checkpoint's JSON), validating it. */
  static fromState(value: unknown): RdpAccountant {
    return new RdpAccountant(parseRdpState(value));
  }

  /** Total steps (rounds) composed so far. */
  get steps(): number {
    return this.state.ledger.reduce((n, e) => n + e.steps, 0);
  }

  /** A new accountant with `steps` more steps at sampling rate q and noise multiplier sigma composed in; this one is unchanged. */
  step(q: number, sigma: number, steps = 1): RdpAccountant {
    return new RdpAccountant(rdpStep(this.state, q, sigma, steps));
  }

  /** Epsilon spent so far at `delta`, with the Rényi order that gives it. */
  epsilon(delta: number, conversion: RdpConversion = 'improved'): EpsilonAtOrder {
    return rdpEpsilon(this.state, delta, conversion);
  }

  /** Decide before a round: would running `steps` more steps at (q, sigma) exceed the budget? */
  wouldExceed(budget: PrivacyBudget, q: number, sigma: number, steps = 1): BudgetCheck {
    return rdpWouldExceed(this.state, budget, q, sigma, steps);
  }
}
