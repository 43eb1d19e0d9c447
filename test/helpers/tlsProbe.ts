import { connect, type ConnectionOptions } from 'node:tls';
import { io } from 'socket.io-client';

/** What one raw TLS connection to a server got: how far the handshake went, and the first HTTP line if any. */
export interface TlsProbeResult {
  /** The client side finished its handshake (TLS 1.3 clients do so before the server has checked their certificate). */
  readonly secured: boolean;
  /** The OpenSSL/Node error code the connection ended with, if any (e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED). */
  readonly errorCode?: string;
  /** The status line of the server's HTTP answer; absent when the server closed the connection before answering. */
  readonly httpStatus?: string;
}

/**
 * Opens a TLS connection to `url` (https://host:port) with `options`, and once secured sends one HTTP request
 * to the socket.io endpoint. Separates a refusal at the TLS layer (no HTTP answer ever comes) from the
 * application's own answers.
 */
export function probeTls(url: string, options: ConnectionOptions): Promise<TlsProbeResult> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let secured = false;
    let errorCode: string | undefined;
    let httpStatus: string | undefined;
    const socket = connect({ host: hostname, port: Number(port), ...options });
    socket.setTimeout(10_000, () => socket.destroy(new Error('probe timed out')));
    socket.on('secureConnect', () => {
      secured = true;
      socket.write(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (data: Buffer) => {
      httpStatus ??= data.toString('latin1').split('\r\n')[0];
      socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (errorCode ??= e.code ?? e.message));
    socket.on('close', () => resolve({ secured, ...(errorCode ? { errorCode } : {}), ...(httpStatus ? { httpStatus } : {}) }));
  });
}

/**
 * Tries one socket.io connection (websocket, no reconnection) and resolves with 'connected' or the code of
 * the transport error underneath the failure (engine.io wraps it as `description.error`).
 */
export function probeSocketIo(url: string, tls: { ca?: string; cert?: string; key?: string } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, ...tls });
    socket.on('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.on('connect_error', (e: Error & { description?: { error?: { code?: string } } }) => resolve(e.description?.error?.code ?? e.message));
  });
}
