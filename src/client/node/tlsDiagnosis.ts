import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** What a node's own TLS settings say (the files it was given, not their contents). */
export interface TlsSettings {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** The transport error under socket.io's "websocket error" (engine.io keeps it as `description.error`). */
export function transportError(e: Error & { description?: unknown }): { code?: string; message: string } {
  const inner = (e.description as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof inner?.code === 'string' ? inner.code : (e as { code?: unknown }).code;
  const message = typeof inner?.message === 'string' ? inner.message : e.message;
  return { ...(typeof code === 'string' ? { code } : {}), message };
}

/** Certificate-chain failures of the coordinator's certificate, as Node names them. */
const UNTRUSTED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);

/**
 * One sentence naming a TLS set-up mistake behind a failed connection attempt, and its fix; undefined when the
 * failure is not one (the coordinator is simply not up yet). May open one short probe connection to tell an
 * HTTPS coordinator behind an http:// URL, or a plain one behind https://, from a coordinator that is down.
 */
export async function diagnoseTls(url: string, error: { code?: string; message: string }, tls: TlsSettings = {}): Promise<string | undefined> {
  const target = new URL(url);
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const code = error.code ?? '';
  const port = Number(target.port || (secure ? 443 : 80));
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || (code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' && !tls.cert)) {
    return tls.cert
      ? `the coordinator requires a client certificate (mutual TLS) and did not accept this node's: set tls.cert and tls.key to the certificate and key its CA issued for this site`
      : `the coordinator requires a client certificate (mutual TLS) and this node has none: set tls.cert and tls.key in this node's config to the certificate and key the coordinator's CA issued for this site`;
  }
  if (UNTRUSTED.has(code)) {
    return tls.ca
      ? `the coordinator's certificate is not signed by the CA in tls.ca (${code}): set tls.ca to the CA certificate that signed the coordinator's certificate (ask its operator)`
      : `the coordinator's certificate is not signed by a CA this node trusts (${code}; a self-signed or private CA) and tls.ca is not set: set tls.ca to the CA certificate (PEM) the coordinator's operator gives you`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the coordinator's certificate does not name ${host}: connect with a host name its certificate lists (${error.message}), or have the coordinator's operator issue one for ${host}`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `the coordinator's certificate is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'}: its operator must renew it (or check this machine's clock)`;
  }
  if (!secure && (code === 'ECONNRESET' || /socket hang up/.test(error.message)) && (await speaksTls(host, port))) {
    return `the coordinator at ${url} serves HTTPS, and this node connects with http://: use https://${target.host} in the coordinator URL (with tls.ca if its certificate comes from a private CA)`;
  }
  if (secure && (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' || /before secure TLS connection was established|wrong version number/.test(error.message)) && (await speaksHttp(host, port))) {
    return `the coordinator at ${url} serves plain HTTP, not HTTPS: use http://${target.host} in the coordinator URL, or ask its operator to enable TLS (tls: { cert, key })`;
  }
  if (secure && tls.cert && code === 'ECONNRESET') {
    return `the coordinator closed the TLS handshake: under mutual TLS this means it does not accept this node's certificate: use a certificate (tls.cert) signed by the coordinator's client CA`;
  }
  return undefined;
}

/** Whether a TLS handshake with host:port completes (any certificate): the server speaks TLS. */
function speaksTls(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTls({ host, port, rejectUnauthorized: false, ...(isIp(host) ? {} : { servername: host }) });
    socket.setTimeout(3_000, () => socket.destroy());
    socket.once('secureConnect', () => {
      // Closed politely, so that the coordinator does not report an abandoned handshake for the probe itself.
      socket.end();
      resolve(true);
    });
    // A server requiring a client certificate alerts after the handshake (TLS 1.3): still a TLS server.
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(/ALERT|SSL/.test(e.code ?? '')));
    socket.once('close', () => resolve(false));
  });
}

/** Whether host:port answers a plain HTTP request with an HTTP status line. */
function speaksHttp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port });
    socket.setTimeout(3_000, () => socket.destroy());
    socket.once('connect', () => socket.write(`HEAD / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    socket.once('data', (data: Buffer) => {
      socket.destroy();
      resolve(data.toString('latin1').startsWith('HTTP/'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
