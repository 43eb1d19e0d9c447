import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CoordinatorEventMap } from '../../../src/coordinator/coordinatorEvents.js';
import type { ObservedCoordinator } from '../../../src/coordinator/observability/observedCoordinator.js';
import type { HttpHandler } from '../../../src/coordinator/httpEndpoint.js';
import type { ClientSummary } from '../../../src/coordinator/strategy.js';

/** A coordinator's events without a coordinator: tests emit them by hand; added routes are served on loopback. */
export class FakeCoordinator extends EventEmitter<CoordinatorEventMap> implements ObservedCoordinator {
  readonly runId = 'run-under-test';
  readonly handlers: HttpHandler[] = [];
  private server: Server | undefined;

  addHttpHandler(handler: HttpHandler): void {
    this.handlers.push(handler);
  }

  /** Serves the added routes as the coordinator's server does (first handler that answers wins, else 404). */
  async listen(): Promise<string> {
    const server = createServer((request, response) => {
      void (async () => {
        for (const handler of this.handlers) if (await handler(request, response)) return;
        response.writeHead(404).end();
      })();
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Resolves once the server has closed: it cannot while a response is still open. */
  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export function summary(name: string, id = `${name}-session`): ClientSummary {
  return { id, name, numTrainExamples: 40, numTestExamples: 10, backend: 'cpu' };
}
