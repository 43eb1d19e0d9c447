import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpHandler } from '../httpEndpoint.js';

/**
 * An HTTP server of its own for the dashboard and metrics, so they can be bound to another address than the
 * coordinator's (a loopback or an operations network that hospitals cannot reach). Plain HTTP: put it behind
 * TLS, or keep it on a trusted network.
 */
export class ObservabilityServer {
  private readonly handlers: HttpHandler[] = [];
  private readonly http: Server;

  /** The server's base URL, `http://host:port`. */
  readonly url: string;

  private constructor(url: string, http: Server) {
    this.url = url;
    this.http = http;
  }

  /** Listens on `host`:`port` (0 picks a free port). */
  static async listen(host: string, port: number): Promise<ObservabilityServer> {
    const http = createServer();
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    // Idle keep-alive sockets must not hold the process open or pile up.
    http.keepAliveTimeout = 5_000;
    http.headersTimeout = 10_000;
    const address = http.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const server = new ObservabilityServer(`http://${shown}:${address.port}`, http);
    http.on('request', (request: IncomingMessage, response: ServerResponse) => void server.serve(request, response));
    return server;
  }

  /** Adds a route handler; handlers run in order until one answers, and unanswered requests get 404. */
  addHttpHandler(handler: HttpHandler): void {
    this.handlers.push(handler);
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      for (const handler of this.handlers) if (await handler(request, response)) return;
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    }
  }

  /** Closes every connection and the server. */
  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
