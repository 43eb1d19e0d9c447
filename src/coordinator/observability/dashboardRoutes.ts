import type { HttpHandler } from '../httpEndpoint.js';
import type { DashboardPage } from './dashboardPage.js';
import type { EventStream } from './eventStream.js';
import { pathOf, refuseUnlessRead, reply, replyJson } from './httpReply.js';
import type { RunObserver } from './runObserver.js';

/**
 * The dashboard's routes, all read-only: the page at / and /dashboard, JSON under /api/, and the live
 * updates at /api/events. Other paths are passed on.
 */
export function dashboardRoutes(observer: RunObserver, stream: EventStream, page: DashboardPage): HttpHandler {
  const json: Readonly<Record<string, () => unknown>> = {
    '/api/snapshot': () => observer.snapshot(),
    '/api/rounds': () => observer.rounds(),
    '/api/clients': () => observer.clients(),
    '/api/fairness': () => observer.fairness(),
    '/api/privacy': () => observer.privacy(),
    '/api/status': () => observer.runStatus,
  };
  return (request, response) => {
    const path = pathOf(request);
    const api = Object.hasOwn(json, path) ? json[path] : undefined;
    const isPage = path === '/' || path === '/dashboard' || path === '/dashboard/';
    if (!api && !isPage && path !== '/api/events') return false;
    if (refuseUnlessRead(request, response)) return true;
    if (isPage) {
      reply(request, response, 'text/html; charset=utf-8', page.html, { 'content-security-policy': page.contentSecurityPolicy });
    } else if (api) {
      replyJson(request, response, api());
    } else {
      const snapshot = observer.snapshot();
      const completed = snapshot.status.phase === 'completed';
      stream.open(response, [{ event: 'snapshot', data: snapshot }, ...(completed ? [{ event: 'complete', data: snapshot.status }] : [])], completed);
    }
    return true;
  };
}
