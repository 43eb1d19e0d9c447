import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpHandler } from '../httpEndpoint.js';
import { baseHeaders } from './httpReply.js';

/** Who may read the dashboard and metrics: holders of one of these tokens, or anyone (a closed network only). */
export type ObserverAccess = { readonly tokens: readonly string[] } | 'anonymous';

/** The cookie a browser keeps after opening the dashboard's link with `?token=`. */
export const OBSERVER_COOKIE = 'cohort_observer';
/** Shortest token accepted: 16 characters (a generated one is 43, 256 bits). */
export const MIN_TOKEN_LENGTH = 16;

/** A fresh observer token: 32 random bytes, base64url. */
export function generateObserverToken(): string {
  return randomBytes(32).toString('base64url');
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The token a request presents: `Authorization: Bearer`, the cookie, or `?token=` (a link opened in a browser). */
function presented(request: IncomingMessage): { token: string; via: 'header' | 'cookie' | 'query' } | undefined {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), via: 'header' };
  const query = new URL(request.url ?? '/', 'http://observer').searchParams.get('token');
  if (query) return { token: query, via: 'query' };
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === OBSERVER_COOKIE) return { token: decodeURIComponent(value.join('=')), via: 'cookie' };
  }
  return undefined;
}

/**
 * The first handler of the observability routes: answers 401 to a request without a valid observer token, and
 * turns a link's `?token=` into an HttpOnly, SameSite=Strict cookie (then redirects to the bare path, so the
 * token leaves the address bar and the history). Tokens are compared as SHA-256 digests in constant time.
 */
export function observerGate(access: { readonly tokens: readonly string[] }, secure: boolean): HttpHandler {
  for (const t of access.tokens) {
    if (t.length < MIN_TOKEN_LENGTH) throw new Error(`an observer token must have at least ${MIN_TOKEN_LENGTH} characters (got ${t.length}); generate one with \`openssl rand -base64 32\``);
  }
  const known = access.tokens.map(digest);
  const valid = (token: string) => {
    const d = digest(token);
    // Every token is compared, so the time taken does not say which one matched.
    return known.reduce((ok, k) => timingSafeEqual(k, d) || ok, false);
  };
  return (request: IncomingMessage, response: ServerResponse) => {
    const given = presented(request);
    if (!given || !valid(given.token)) {
      refuse(response, given ? 'the observer token is not valid' : 'an observer token is required: open the link the coordinator printed, or send Authorization: Bearer <token>');
      return true;
    }
    if (given.via !== 'query') return false;
    const url = new URL(request.url ?? '/', 'http://observer');
    url.searchParams.delete('token');
    const cookie = `${OBSERVER_COOKIE}=${encodeURIComponent(given.token)}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`;
    response.writeHead(303, { ...baseHeaders, 'set-cookie': cookie, location: url.pathname + url.search }).end();
    return true;
  };
}

function refuse(response: ServerResponse, why: string): void {
  response.writeHead(401, { ...baseHeaders, 'www-authenticate': 'Bearer realm="cohort observer"', 'content-type': 'text/plain; charset=utf-8' }).end(`${why}\n`);
}
