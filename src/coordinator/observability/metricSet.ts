import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Round durations from sub-second loopback rounds to half-hour cross-silo ones (seconds). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** The coordinator's Prometheus metrics, registered in one registry. Names follow Prometheus conventions. */
export function createMetricSet(registry: Registry, durationBuckets: readonly number[] = DEFAULT_DURATION_BUCKETS) {
  const registers = [registry];
  return {
    runInfo: new Gauge({ name: 'cohort_run_info', help: 'The run this coordinator serves (always 1)', labelNames: ['run'] as const, registers }),
    roundsCompleted: new Counter({ name: 'cohort_rounds_completed_total', help: 'Rounds completed', registers }),
    roundFailures: new Counter({ name: 'cohort_round_failures_total', help: 'Round attempts that failed with too few updates (each is retried or ends the run)', registers }),
    roundDuration: new Histogram({ name: 'cohort_round_duration_seconds', help: 'Duration of completed rounds, fit and evaluation, retries included', buckets: [...durationBuckets], registers }),
    round: new Gauge({ name: 'cohort_round', help: 'The last completed round', registers }),
    connectedClients: new Gauge({ name: 'cohort_connected_clients', help: 'Authenticated clients connected now', registers }),
    clientJoins: new Counter({ name: 'cohort_client_joins_total', help: 'Client connections authenticated (reconnects included)', registers }),
    receivedBytes: new Counter({ name: 'cohort_received_bytes_total', help: 'Streamed payload bytes received from clients (updates, statistics)', registers }),
    sentBytes: new Counter({ name: 'cohort_sent_bytes_total', help: 'Streamed payload bytes sent to clients (global weights)', registers }),
    refused: new Counter({ name: 'cohort_refused_messages_total', help: 'Inbound messages and connections refused: malformed, unauthorised or over a limit', registers }),
    // Labelled so that a value nobody reported is absent rather than a misleading 0.
    federated: new Gauge({ name: 'cohort_federated_evaluation', help: 'Federated evaluation of the last completed round, as the strategy aggregated it (accuracy 0 to 1)', labelNames: ['metric'] as const, registers }),
    fairness: new Gauge({
      name: 'cohort_client_spread',
      help: 'Spread over clients of the last round\'s federated evaluation: worst, best and unweighted mean client, mean minus worst (gap), population standard deviation',
      labelNames: ['metric', 'stat'] as const,
      registers,
    }),
  };
}

export type MetricSet = ReturnType<typeof createMetricSet>;
