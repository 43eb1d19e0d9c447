import type { RoundRecord } from '../roundRecord.js';
import { spreadOf, type Better, type MetricSpread } from './spread.js';

/** The metrics fairness follows: `accuracy` and `loss`. */
export type FairnessMetric = 'accuracy' | 'loss';

/** The evaluation metrics followed per client: `metrics.accuracy` and the evaluation loss, and which way is better. */
export const FAIRNESS_METRICS = { accuracy: 'higher', loss: 'lower' } as const satisfies Record<FairnessMetric, Better>;

/** One client's value of one metric this round, against its first and its previous evaluated rounds. */
export interface DriftValue {
  /** This round's value. */
  readonly value: number;
  /** The first round this client was evaluated in. */
  readonly firstRound: number;
  /** Its value then. */
  readonly first: number;
  /** value - first. */
  readonly sinceFirst: number;
  /** The last earlier round this client was evaluated in (not always round - 1); absent in its first. */
  readonly previousRound?: number;
  /** Its value in `previousRound`. */
  readonly previous?: number;
  /** value - previous. */
  readonly sincePrevious?: number;
}

/** How one client's accuracy and loss moved since its first and its previous evaluation. */
export interface ClientDrift {
  /** The client's name. */
  readonly client: string;
  /** Accuracy drift, when the client reports accuracy. */
  readonly accuracy?: DriftValue;
  /** Loss drift. */
  readonly loss?: DriftValue;
}

/** How evenly the model serves the clients in one round: the spread of each metric across them, and each one's drift. */
export interface RoundFairness {
  /** The round. */
  readonly round: number;
  /** Spread of the clients' accuracies. */
  readonly accuracy?: MetricSpread;
  /** Spread of the clients' losses. */
  readonly loss?: MetricSpread;
  /** Clients evaluated this round, in the order they reported. */
  readonly drift: readonly ClientDrift[];
}

/** Fairness so far: every round's figures and the latest. */
export interface FairnessSnapshot {
  /** The last completed round's figures (absent before the first round completes). */
  readonly latest?: RoundFairness;
  /** Every completed round, oldest first. */
  readonly rounds: readonly RoundFairness[];
}

interface Seen {
  readonly firstRound: number;
  readonly first: number;
  readonly lastRound: number;
  readonly last: number;
}

/** What the tracker remembers per client and metric between rounds. */
export type FairnessMemory = ReadonlyMap<string, Readonly<Partial<Record<FairnessMetric, Seen>>>>;

function valuesOf(record: RoundRecord): { client: string; values: Partial<Record<FairnessMetric, number>> }[] {
  return (record.evaluate?.outcomes ?? [])
    .filter((o) => !o.failure)
    .map((o) => {
      const values: Partial<Record<FairnessMetric, number>> = {};
      const accuracy = o.metrics?.accuracy;
      if (accuracy !== undefined && Number.isFinite(accuracy)) values.accuracy = accuracy;
      if (o.loss !== undefined && Number.isFinite(o.loss)) values.loss = o.loss;
      return { client: o.client, values };
    });
}

function driftOf(round: number, value: number, seen: Seen | undefined): DriftValue {
  if (!seen) return { value, firstRound: round, first: value, sinceFirst: 0 };
  return {
    value,
    firstRound: seen.firstRound,
    first: seen.first,
    sinceFirst: value - seen.first,
    previousRound: seen.lastRound,
    previous: seen.last,
    sincePrevious: value - seen.last,
  };
}

/**
 * Fairness of one round from its federated evaluation: the spread of each metric over clients and each
 * client's drift. Pure: returns the memory the next round needs instead of changing `memory`. Failed
 * evaluations and non-finite values are left out (a client that missed a round keeps its last value).
 */
export function fairnessOfRound(record: RoundRecord, memory: FairnessMemory): { fairness: RoundFairness; memory: FairnessMemory } {
  const next = new Map(memory);
  const clients = valuesOf(record);
  const drift = clients.map(({ client, values }) => {
    const seen = memory.get(client) ?? {};
    const remembered: Partial<Record<FairnessMetric, Seen>> = { ...seen };
    const row: { client: string } & Partial<Record<FairnessMetric, DriftValue>> = { client };
    for (const metric of Object.keys(FAIRNESS_METRICS) as FairnessMetric[]) {
      const value = values[metric];
      if (value === undefined) continue;
      const before = seen[metric];
      row[metric] = driftOf(record.round, value, before);
      remembered[metric] = { firstRound: before?.firstRound ?? record.round, first: before?.first ?? value, lastRound: record.round, last: value };
    }
    next.set(client, remembered);
    return row;
  });
  const spread = (metric: FairnessMetric) =>
    spreadOf(
      clients.flatMap(({ client, values }) => (values[metric] === undefined ? [] : [{ client, value: values[metric] }])),
      FAIRNESS_METRICS[metric],
    );
  const accuracy = spread('accuracy');
  const loss = spread('loss');
  return { fairness: { round: record.round, ...(accuracy ? { accuracy } : {}), ...(loss ? { loss } : {}), drift }, memory: next };
}

/** Consumes round records as they complete and keeps every round's fairness, JSON-ready. */
export class FairnessTracker {
  private memory: FairnessMemory = new Map();
  private readonly rounds: RoundFairness[] = [];

  /** Adds a completed round; returns its fairness. */
  observe(record: RoundRecord): RoundFairness {
    const { fairness, memory } = fairnessOfRound(record, this.memory);
    this.memory = memory;
    this.rounds.push(fairness);
    return fairness;
  }

  get latest(): RoundFairness | undefined {
    return this.rounds[this.rounds.length - 1];
  }

  snapshot(): FairnessSnapshot {
    const latest = this.latest;
    return { ...(latest ? { latest } : {}), rounds: [...this.rounds] };
  }
}
