import { createSeededRng, mixSeed, shuffleInPlace } from '../../protocol/seededRng.js';

/**
 * Where a virtual client leaves a round. `before-upload`: it takes its fit task (under SecAgg+, after the key
 * exchange, so its neighbours hold shares of its mask key) and disconnects without training or uploading.
 * `after-upload`: it disconnects the moment the coordinator has accepted its upload (under SecAgg+, before the
 * consistency and unmask steps, so its self mask must be rebuilt from its neighbours' shares).
 */
export type DropoutStep = 'before-upload' | 'after-upload';

/** The step, if any, at which one client leaves a given round. */
export type LeaveAt = (round: number) => DropoutStep | undefined;

/** How many clients leave each round, at which step, from which seed. */
export interface DropoutScheduleOptions {
  /** Fraction of the clients that leave each round before uploading, in [0, 1] (rounded to whole clients). */
  readonly beforeUpload: number;
  /** Fraction that leave each round just after their upload was accepted. */
  readonly afterUpload: number;
  /** The same seed gives the same clients leaving at the same steps of the same rounds. */
  readonly seed: number;
  /** The rounds with dropouts (1-based); default every round. */
  readonly rounds?: readonly number[];
}

/** Who leaves a round, and when. */
export interface RoundDropouts {
  /** Clients that take the fit task and leave without uploading. */
  readonly beforeUpload: readonly string[];
  /** Clients that leave once their upload is accepted. */
  readonly afterUpload: readonly string[];
}

/** A seeded fault-injection plan for a simulation: per round, which clients leave at which step. */
export interface DropoutSchedule {
  /** Who leaves round `round` (1-based), and when. */
  at(round: number): RoundDropouts;
  /** One client's part of the plan (ClientOptions.simulation.leaveAt). */
  leaveAt(name: string): LeaveAt;
}

/** Mixed into the seed so the dropouts draw a stream of their own, independent of partitioning and sampling. */
const DROPOUT_STREAM = 0x64726f70;

function checkFraction(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new Error(`dropouts.${name} must be a fraction from 0 to 1, got ${value}`);
}

/**
 * A fresh draw each round: the clients are shuffled by a generator seeded with (seed, round); the first
 * round(n x beforeUpload) leave before uploading and the next round(n x afterUpload) after. Every client comes
 * back for the next round (its node reconnects as after any lost connection), so each round loses the same
 * share of a full cohort, as in Bonawitz et al. 2017's dropout experiments.
 */
export function dropoutSchedule(names: readonly string[], options: DropoutScheduleOptions): DropoutSchedule {
  const { beforeUpload, afterUpload, seed } = options;
  checkFraction('beforeUpload', beforeUpload);
  checkFraction('afterUpload', afterUpload);
  if (beforeUpload + afterUpload > 1) throw new Error(`dropouts.beforeUpload + dropouts.afterUpload must not exceed 1, got ${beforeUpload} + ${afterUpload}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`dropouts.seed must be an integer, got ${seed}`);
  const sorted = [...names].sort();
  if (new Set(sorted).size !== sorted.length) throw new Error('dropouts: the client names must be distinct');
  const rounds = options.rounds ? new Set(options.rounds) : undefined;
  const cache = new Map<number, RoundDropouts>();
  const at = (round: number): RoundDropouts => {
    if (rounds && !rounds.has(round)) return { beforeUpload: [], afterUpload: [] };
    let drawn = cache.get(round);
    if (!drawn) {
      const order = shuffleInPlace([...sorted], createSeededRng(mixSeed(seed, round, DROPOUT_STREAM)));
      const before = Math.round(sorted.length * beforeUpload);
      const after = Math.round(sorted.length * afterUpload);
      drawn = { beforeUpload: order.slice(0, before).sort(), afterUpload: order.slice(before, before + after).sort() };
      cache.set(round, drawn);
    }
    return drawn;
  };
  return {
    at,
    leaveAt: (name) => (round) => {
      const drawn = at(round);
      if (drawn.beforeUpload.includes(name)) return 'before-upload';
      if (drawn.afterUpload.includes(name)) return 'after-upload';
      return undefined;
    },
  };
}
