import type { EventEmitter } from 'node:events';
import type { CoordinatorEventMap } from '../coordinatorEvents.js';
import type { HttpHandler } from '../httpEndpoint.js';

/**
 * What observability needs of a coordinator: its events and a way to serve HTTP beside it. `Coordinator`
 * is one; tests pass a bare emitter with these two members.
 */
export type ObservedCoordinator = EventEmitter<CoordinatorEventMap> & {
  readonly runId: string;
  /** Serves extra HTTP routes on the coordinator's port. */
  addHttpHandler(handler: HttpHandler): void;
};
