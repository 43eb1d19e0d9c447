/** Which way a metric improves: accuracy is better higher, loss lower. */
export type Better = 'higher' | 'lower';

/** One client's value of a metric. */
export interface ClientValue {
  /** The client's name. */
  readonly client: string;
  /** Its value. */
  readonly value: number;
}

/** How one evaluation metric is spread over the clients of one round. */
export interface MetricSpread {
  /** Which direction is better for this metric. */
  readonly better: Better;
  /** Clients with a finite value (the others are left out of every figure). */
  readonly clients: number;
  /** The client with the worst value. */
  readonly worst: ClientValue;
  /** The client with the best value. */
  readonly best: ClientValue;
  /** Unweighted mean over clients: each client counts once, whatever its size. */
  readonly mean: number;
  /** How far the worst client is behind the mean, in the metric's units; never negative. */
  readonly gapMeanToWorst: number;
  /** Population standard deviation over clients (divides by n: these are all the clients, not a sample). */
  readonly std: number;
}

/**
 * Per-client spread of one metric: the uniformity view of fairness (Li et al. 2020, "Fair Resource
 * Allocation in Federated Learning", measure accuracy variance across devices and the worst device).
 * Ties for worst or best go to the client listed first. Undefined when no client has a finite value.
 */
export function spreadOf(values: readonly ClientValue[], better: Better): MetricSpread | undefined {
  const finite = values.filter((v) => Number.isFinite(v.value));
  const first = finite[0];
  if (!first) return undefined;
  const isBetter = (a: number, b: number) => (better === 'higher' ? a > b : a < b);
  let worst = first;
  let best = first;
  let sum = 0;
  for (const v of finite) {
    if (isBetter(worst.value, v.value)) worst = v;
    if (isBetter(v.value, best.value)) best = v;
    sum += v.value;
  }
  const mean = sum / finite.length;
  const variance = finite.reduce((s, v) => s + (v.value - mean) ** 2, 0) / finite.length;
  return {
    better,
    clients: finite.length,
    worst,
    best,
    mean,
    gapMeanToWorst: Math.max(0, better === 'higher' ? mean - worst.value : worst.value - mean),
    std: Math.sqrt(variance),
  };
}
