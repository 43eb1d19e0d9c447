import { attachDashboard, type Dashboard, type DashboardOptions } from './attachDashboard.js';
import { attachMetrics, type CoordinatorMetrics, type MetricsOptions } from './attachMetrics.js';
import type { ObservabilityServer } from './observabilityServer.js';
import type { ObservedCoordinator } from './observedCoordinator.js';
import { generateObserverToken, observerGate, type ObserverAccess } from './observerGate.js';

/** What attachObservability serves, to whom, and where. */
export interface ObservabilityOptions {
  /** Metrics options, or `false` for no metrics. */
  readonly metrics?: MetricsOptions | false;
  /** Dashboard options, or `false` for no dashboard. */
  readonly dashboard?: DashboardOptions | false;
  /**
   * Who may read the dashboard and metrics. Default: holders of a fresh random token (`Observability.token`).
   * 'anonymous' serves anyone who can reach the address: per-site row counts, losses and dropout reasons.
   */
  readonly observers?: ObserverAccess;
  /** Serve on this server (another address) instead of the coordinator's port. */
  readonly server?: ObservabilityServer;
  /** The routes are served over HTTPS: the observer cookie is then marked Secure. */
  readonly secure?: boolean;
}

/** What attachObservability attached. */
export interface Observability {
  /** The metrics, unless turned off. */
  readonly metrics?: CoordinatorMetrics;
  /** The dashboard, unless turned off. */
  readonly dashboard?: Dashboard;
  /** The observer token generated for this coordinator (absent when `observers` was given). */
  readonly token?: string;
  /** Stops both; call before `coordinator.close()`. */
  close(): void;
}

/**
 * Prometheus metrics at /metrics and the dashboard at / on the coordinator's port (or `server`), behind an
 * observer token; either can be turned off. A browser opens `/?token=<token>` once (the token becomes a
 * cookie); a scraper sends `Authorization: Bearer <token>`.
 */
export function attachObservability(coordinator: ObservedCoordinator, options: ObservabilityOptions = {}): Observability {
  const generated = options.observers === undefined ? generateObserverToken() : undefined;
  const observers = options.observers ?? { tokens: [generated!] };
  const serveOn = options.server ?? coordinator;
  // First in line, so no route answers before the credential is checked.
  if (observers !== 'anonymous') serveOn.addHttpHandler(observerGate(observers, options.secure ?? false));
  const metrics = options.metrics === false ? undefined : attachMetrics(coordinator, { ...options.metrics, serveOn });
  const dashboard = options.dashboard === false ? undefined : attachDashboard(coordinator, { ...options.dashboard, serveOn });
  return {
    ...(metrics ? { metrics } : {}),
    ...(dashboard ? { dashboard } : {}),
    ...(generated ? { token: generated } : {}),
    close: () => {
      metrics?.detach();
      dashboard?.close();
    },
  };
}
