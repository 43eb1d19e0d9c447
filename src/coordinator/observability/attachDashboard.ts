import { dashboardPage } from './dashboardPage.js';
import { dashboardRoutes } from './dashboardRoutes.js';
import { EventStream, type EventStreamOptions } from './eventStream.js';
import type { HttpHandler } from '../httpEndpoint.js';
import type { ObservedCoordinator } from './observedCoordinator.js';
import { RunObserver, type RunObserverOptions } from './runObserver.js';

/** The dashboard's title, planned rounds, privacy card and stream limits, and where it is served. */
export interface DashboardOptions extends RunObserverOptions, EventStreamOptions {
  /** Where the routes are served: the coordinator's port by default (attachObservability puts a gate first). */
  readonly serveOn?: {
    /** Adds a route handler; handlers run in order until one answers. */
    addHttpHandler(handler: HttpHandler): void;
  };
}

/** A dashboard attached to a coordinator. */
export interface Dashboard {
  /** What it shows, readable in code (`snapshot()`, `rounds()`...). */
  readonly observer: RunObserver;
  /**
   * Ends the open event streams and stops following the coordinator. Call it before closing the
   * coordinator when a run ends early: an open stream would hold the HTTP server's close. (A run that
   * completes ends its streams itself.)
   */
  close(): void;
}

/** Serves the live dashboard, its JSON API and its event stream on the coordinator's port. */
export function attachDashboard(coordinator: ObservedCoordinator, options: DashboardOptions = {}): Dashboard {
  const observer = new RunObserver(coordinator, options);
  const stream = new EventStream(options);
  observer.onUpdate((update) => {
    stream.broadcast(update.event, update.data);
    // Readers close on 'complete'; ending the streams too means none can hold the server's close.
    if (update.event === 'complete') stream.disconnectAll();
  });
  (options.serveOn ?? coordinator).addHttpHandler(dashboardRoutes(observer, stream, dashboardPage()));
  return {
    observer,
    close: () => {
      stream.end();
      observer.detach();
    },
  };
}
