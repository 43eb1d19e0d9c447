import { attachDashboard, type Dashboard, type DashboardOptions } from './attachDashboard.js';
import { attachMetrics, type CoordinatorMetrics, type MetricsOptions } from './attachMetrics.js';
import type { ObservedCoordinator } from './observedCoordinator.js';

export interface ObservabilityOptions {
  readonly metrics?: MetricsOptions | false;
  readonly dashboard?: DashboardOptions | false;
}

export interface Observability {
  readonly metrics?: CoordinatorMetrics;
  readonly dashboard?: Dashboard;
  /** Stops both; call before `coordinator.close()`. */
  close(): void;
}

/** Prometheus metrics at /metrics and the dashboard at / on the coordinator's port; either can be turned off. */
export function attachObservability(coordinator: ObservedCoordinator, options: ObservabilityOptions = {}): Observability {
  const metrics = options.metrics === false ? undefined : attachMetrics(coordinator, options.metrics);
  const dashboard = options.dashboard === false ? undefined : attachDashboard(coordinator, options.dashboard);
  return {
    ...(metrics ? { metrics } : {}),
    ...(dashboard ? { dashboard } : {}),
    close: () => {
      metrics?.detach();
      dashboard?.close();
    },
  };
}
