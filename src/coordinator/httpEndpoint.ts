import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'pino';

/** HTTPS/WSS: certificate and key in PEM; `ca` and `requestClientCert` turn on mutual TLS. */
export interface TlsOptions {
  /** The server certificate (PEM). */
  readonly cert: string | Buffer;
  /** Its private key (PEM). */
  readonly key: string | Buffer;
  /** The CA that signed the clients' certificates (mutual TLS). */
  readonly ca?: string | Buffer;
  /** Require a client certificate signed by `ca`. */
  readonly requestClientCert?: boolean;
}

/** Serves one HTTP request beside the socket.io endpoint; returns false to pass it on. */
export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>;

/** The HTTP (or HTTPS) server under the socket.io endpoint, its timeouts bounded by the handshake's. */
export function createHttpEndpoint(tls: TlsOptions | undefined, helloTimeoutMs: number): HttpServer {
  const http = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}), requestCert: tls.requestClientCert ?? false, rejectUnauthorized: tls.requestClientCert ?? false, handshakeTimeout: helloTimeoutMs })
    : createServer();
  // Node's defaults leave a slow sender 60 s for its headers and 5 minutes for its request.
  http.headersTimeout = helloTimeoutMs;
  http.requestTimeout = Math.max(30_000, helloTimeoutMs);
  http.keepAliveTimeout = 5_000;
  return http;
}

/** The HTTP routes beside the socket.io endpoint (metrics, dashboard), tried in the order added. */
export class HttpRoutes {
  private readonly handlers: HttpHandler[] = [];

  constructor(private readonly log: Logger) {}

  /** Adds a route; socket.io's own path is never passed to handlers. */
  add(handler: HttpHandler): void {
    this.handlers.push(handler);
  }

  /** Serves `request` with the first handler that takes it: 404 when none does, 500 when one fails. */
  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.url?.startsWith('/socket.io/')) return;
    try {
      for (const handler of this.handlers) if (await handler(request, response)) return;
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch (e) {
      this.log.error({ url: request.url, error: (e as Error).message }, 'HTTP handler failed');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    }
  }
}
