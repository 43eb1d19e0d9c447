import { collectDefaultMetrics, Registry } from 'prom-client';
import type { CoordinatorEventMap } from '../coordinatorEvents.js';
import type { RoundRecord } from '../roundRecord.js';
import type { HttpHandler } from '../httpEndpoint.js';
import { pathOf, refuseUnlessRead, reply } from './httpReply.js';
import { FAIRNESS_METRICS, fairnessOfRound, type FairnessMetric } from './fairness.js';
import { createMetricSet, type MetricSet } from './metricSet.js';
import type { ObservedCoordinator } from './observedCoordinator.js';

/** Where and how the Prometheus metrics are kept and served. */
export interface MetricsOptions {
  /** Where the metrics live. Default: a new registry for this coordinator (never prom-client's global one). */
  readonly registry?: Registry;
  /** Also export Node's process metrics (CPU, memory, event-loop lag) as cohort_process_*. Default: off. */
  readonly processMetrics?: boolean;
  /** The route. Default: /metrics. */
  readonly path?: string;
  /** Buckets of cohort_round_duration_seconds, in seconds. */
  readonly durationBuckets?: readonly number[];
  /** Where the route is served: the coordinator's port by default (attachObservability puts a gate first). */
  readonly serveOn?: {
    /** Adds a route handler; handlers run in order until one answers. */
    addHttpHandler(handler: HttpHandler): void;
  };
}

/** The metrics attached to a coordinator. */
export interface CoordinatorMetrics {
  /** The prom-client registry holding them. */
  readonly registry: Registry;
  /** The Prometheus text exposition, as the route serves it. */
  text(): Promise<string>;
  /** Stops counting this coordinator's events; the route keeps serving the last values. */
  detach(): void;
}

function recordRound(metrics: MetricSet, record: RoundRecord): void {
  metrics.roundsCompleted.inc();
  metrics.round.set(record.round);
  metrics.roundDuration.observe(record.durationMs / 1000);
  const evaluate = record.evaluate;
  if (evaluate?.loss !== undefined) metrics.federated.set({ metric: 'loss' }, evaluate.loss);
  if (evaluate?.metrics.accuracy !== undefined) metrics.federated.set({ metric: 'accuracy' }, evaluate.metrics.accuracy);
  // Only the two metrics the fairness view follows: label values never come from client-chosen names.
  const { fairness } = fairnessOfRound(record, new Map());
  for (const metric of Object.keys(FAIRNESS_METRICS) as FairnessMetric[]) {
    const spread = fairness[metric];
    if (!spread) continue;
    const stats = { worst: spread.worst.value, best: spread.best.value, mean: spread.mean, gap: spread.gapMeanToWorst, stddev: spread.std };
    for (const [stat, value] of Object.entries(stats)) metrics.fairness.set({ metric, stat }, value);
  }
}

/**
 * Counts the coordinator's events into Prometheus metrics and serves them at `/metrics` on the
 * coordinator's own port.
 */
export function attachMetrics(coordinator: ObservedCoordinator, options: MetricsOptions = {}): CoordinatorMetrics {
  const registry = options.registry ?? new Registry();
  const metrics = createMetricSet(registry, options.durationBuckets);
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'cohort_' });
  metrics.runInfo.set({ run: coordinator.runId }, 1);
  // Sessions counted by id: a reconnect replaces a session before the old one's departure is reported.
  const connected = new Set<string>();
  const listeners: { [K in keyof CoordinatorEventMap]?: (...args: CoordinatorEventMap[K]) => void } = {
    'client-joined': (client) => {
      connected.add(client.id);
      metrics.clientJoins.inc();
      metrics.connectedClients.set(connected.size);
    },
    'client-left': (client) => {
      connected.delete(client.id);
      metrics.connectedClients.set(connected.size);
    },
    'round-failed': () => metrics.roundFailures.inc(),
    'round-completed': (record) => recordRound(metrics, record),
    traffic: ({ direction, bytes }) => (direction === 'in' ? metrics.receivedBytes : metrics.sentBytes).inc(bytes),
    refused: () => metrics.refused.inc(),
  };
  for (const [event, listener] of Object.entries(listeners)) coordinator.on(event as keyof CoordinatorEventMap, listener as () => void);

  const path = options.path ?? '/metrics';
  (options.serveOn ?? coordinator).addHttpHandler(async (request, response) => {
    if (pathOf(request) !== path) return false;
    if (refuseUnlessRead(request, response)) return true;
    reply(request, response, registry.contentType, await registry.metrics());
    return true;
  });
  return {
    registry,
    text: () => registry.metrics(),
    detach: () => {
      for (const [event, listener] of Object.entries(listeners)) coordinator.off(event as keyof CoordinatorEventMap, listener as () => void);
    },
  };
}
