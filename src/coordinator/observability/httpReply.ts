import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers on every observability response: no caching, no sniffing, no framing, no referrer. */
export const baseHeaders: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** The routes are read-only: anything but GET and HEAD is answered 405. Returns whether it answered. */
export function refuseUnlessRead(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false;
  response.writeHead(405, { ...baseHeaders, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('read-only: use GET\n');
  return true;
}

/** Sends `body` with `contentType`; HEAD gets the headers only. */
export function reply(request: IncomingMessage, response: ServerResponse, contentType: string, body: string, extra: Record<string, string> = {}): void {
  response.writeHead(200, { ...baseHeaders, ...extra, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) });
  response.end(request.method === 'HEAD' ? undefined : body);
}

export function replyJson(request: IncomingMessage, response: ServerResponse, value: unknown): void {
  reply(request, response, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);
}

/** The request's path without its query string. */
export function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
