import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';

/** A connection that failed below socket.io on a client's TLS set-up mistake, in one sentence with the fix. */
export interface TlsMistake {
  readonly address: string;
  readonly problem: string;
}

/** The first bytes of a TLS ClientHello: a handshake record (0x16) of TLS 1.x (0x03). */
function looksLikeTls(packet: Buffer | undefined): boolean {
  return packet !== undefined && packet.length >= 2 && packet[0] === 0x16 && packet[1] === 0x03;
}

/** How often the same mistake from the same address is reported (a misconfigured node retries for hours). */
const REPEAT_MS = 60_000;
const MAX_REMEMBERED = 1_000;

/**
 * Watches the coordinator's HTTP(S) server for connections that fail before socket.io sees them, and reports the
 * ones a client's TLS set-up explains: a plain-HTTP client on an HTTPS coordinator, a client without a
 * certificate under mutual TLS, a handshake the client abandoned (it does not trust the certificate), a TLS
 * client on a plain-HTTP coordinator. Each (address, mistake) is reported at most once a minute.
 */
export function watchTlsMistakes(server: HttpServer, options: { readonly tls: boolean; readonly mutual: boolean }, report: (mistake: TlsMistake) => void): void {
  const lastSaid = new Map<string, number>();
  const say = (address: string, problem: string) => {
    const key = `${address} ${problem}`;
    const now = Date.now();
    if ((lastSaid.get(key) ?? -Infinity) > now - REPEAT_MS) return;
    if (lastSaid.size >= MAX_REMEMBERED) lastSaid.clear();
    lastSaid.set(key, now);
    report({ address, problem });
  };
  if (options.tls) {
    // A TLS socket that failed mid-handshake has lost its handle and its peer's address: note each raw TCP
    // socket's address as it connects, and find it again through the TLS socket's `_parent` (that raw socket).
    const peers = new WeakMap<Socket, string>();
    server.on('connection', (raw: Socket) => void (raw.remoteAddress && peers.set(raw, raw.remoteAddress)));
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      const raw = (socket as Socket & { _parent?: Socket })._parent;
      const address = socket.remoteAddress ?? (raw && peers.get(raw)) ?? 'unknown';
      const problem = tlsProblem(error.code ?? '', address, options.mutual);
      if (problem) say(address, problem);
    });
    return;
  }
  // Node answers a malformed request with 400 and closes the socket when no one listens; with a listener, this does.
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    if (looksLikeTls(error.rawPacket)) {
      say(socket.remoteAddress ?? 'unknown', `a client at ${socket.remoteAddress ?? 'an unknown address'} speaks TLS (an https:// URL) to this plain-HTTP coordinator: give it this coordinator's http:// URL, or serve TLS here (tls: { cert, key })`);
    }
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
}

function tlsProblem(code: string, address: string, mutual: boolean): string | undefined {
  switch (code) {
    case 'ERR_SSL_HTTP_REQUEST':
      return `a client at ${address} speaks plain HTTP (an http:// URL) to this HTTPS coordinator: its coordinator URL must start with https://`;
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return `a client at ${address} sent no client certificate, and this coordinator requires one (tls.requestClientCert): give the site a certificate and key signed by this coordinator's tls.ca, set as tls.cert and tls.key in its config`;
    case 'ECONNRESET':
      return `a client at ${address} abandoned the TLS handshake: most often it does not trust this coordinator's certificate (its tls.ca is missing or names another CA)${mutual ? ", or its own certificate is not signed by this coordinator's tls.ca" : ''}`;
    default:
      return code.startsWith('ERR_SSL_') ? `a TLS handshake from ${address} failed (${code})` : undefined;
  }
}
