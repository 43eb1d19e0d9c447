import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { attachDashboard, type Dashboard } from '../../../src/coordinator/observability/attachDashboard.js';
import { DASHBOARD_SCRIPT } from '../../../src/coordinator/observability/dashboardScript.js';
import type { DashboardSnapshot } from '../../../src/coordinator/observability/dashboardModel.js';
import { FakeCoordinator, summary } from './fakeCoordinator.js';
import { roundRecord } from './roundRecords.js';

interface Frame {
  event: string;
  data: unknown;
}

/** Reads Server-Sent Events from `url` until the server ends the stream. */
async function readEvents(url: string, onOpen?: () => void): Promise<{ frames: Frame[]; ended: boolean; status: number }> {
  const response = await fetch(url);
  const frames: Frame[] = [];
  if (response.status !== 200 || !response.body) return { frames, ended: true, status: response.status };
  onOpen?.();
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) frames.push({ event, data: JSON.parse(data) });
    }
  }
  return { frames, ended: true, status: 200 };
}

let coordinator: FakeCoordinator;
let dashboard: Dashboard;
let url: string;
async function start(): Promise<void> {
  coordinator = new FakeCoordinator();
  dashboard = attachDashboard(coordinator, { title: 'Test <run>', rounds: 2 });
  url = await coordinator.listen();
}
afterEach(async () => {
  dashboard.close();
  await coordinator.close();
});

describe('the dashboard routes', () => {
  it('serves the page with a policy that allows only its own inline script and its own origin', async () => {
    await start();
    for (const path of ['/', '/dashboard']) {
      const response = await fetch(url + path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = response.headers.get('content-security-policy')!;
      const hash = createHash('sha256').update(DASHBOARD_SCRIPT).digest('base64');
      expect(csp).toContain(`script-src 'sha256-${hash}'`);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("connect-src 'self'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      const html = await response.text();
      // Nothing is loaded from elsewhere (the only URL is the SVG namespace, which is a name, not a request).
      expect(html).not.toMatch(/<script[^>]* src=|rel="stylesheet"|(src|href|url)\(?=?["']?https?:/);
      expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
      expect(html).not.toContain('innerHTML');
    }
  });

  it('answers the JSON API from the run so far, refuses writes and passes other paths on', async () => {
    await start();
    coordinator.emit('client-joined', summary('a'));
    coordinator.emit('round-completed', roundRecord(1, [['a', 0.75, 0.3]]));
    const get = async (path: string) => (await fetch(url + path)).json();
    expect(await get('/api/clients')).toMatchObject([{ name: 'a', status: 'connected', lastAccuracy: 0.75 }]);
    expect(await get('/api/rounds')).toMatchObject([{ round: 1, accuracy: 0.51, clients: [{ client: 'a', accuracy: 0.75 }] }]);
    expect(await get('/api/fairness')).toMatchObject({ latest: { round: 1, accuracy: { worst: { client: 'a', value: 0.75 } } }, rounds: [{ round: 1 }] });
    expect(await get('/api/privacy')).toEqual({ configured: false });
    expect(await get('/api/snapshot?x=1')).toMatchObject({ title: 'Test <run>', status: { phase: 'waiting', rounds: 2 } });
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await fetch(url + '/api/rounds', { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    }
    expect((await fetch(url + '/api/unknown')).status).toBe(404);
    expect((await fetch(url + '/api/constructor')).status).toBe(404);
    const head = await fetch(url + '/api/rounds', { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
  });

  it('streams a snapshot, then each change, then ends the streams when the run completes', async () => {
    await start();
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const reading = readEvents(url + '/api/events', () => opened());
    await open; // the server registers a stream before it sends the headers
    coordinator.emit('client-joined', summary('a'));
    coordinator.emit('round-started', { round: 1, attempt: 1, selected: ['a'] });
    coordinator.emit('round-completed', roundRecord(1, [['a', 0.75, 0.3]]));
    coordinator.emit('run-completed', { runId: coordinator.runId, rounds: 1 });
    const { frames, ended } = await reading;
    expect(ended).toBe(true);
    expect(frames.map((f) => f.event)).toEqual(['snapshot', 'clients', 'status', 'round', 'clients', 'status', 'clients', 'complete']);
    expect((frames[0]!.data as DashboardSnapshot).status.phase).toBe('waiting');
    expect(frames[3]!.data).toMatchObject({ round: { round: 1 }, fairness: { round: 1 }, privacy: { configured: false } });

    // A dashboard opened after the run gets the final state and is told not to come back.
    const late = await readEvents(url + '/api/events');
    expect(late.frames.map((f) => f.event)).toEqual(['snapshot', 'complete']);
    expect((late.frames[0]!.data as DashboardSnapshot).rounds).toHaveLength(1);
  });

  it('lets the server close while a dashboard is open once closed, and answers 204 afterwards', async () => {
    await start();
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const reading = readEvents(url + '/api/events', () => opened());
    await open;
    dashboard.close(); // the run failed: no 'complete' event will end the stream
    expect((await reading).ended).toBe(true);
    expect((await fetch(url + '/api/events')).status).toBe(204);
  });

  it('refuses streams past its limit', async () => {
    coordinator = new FakeCoordinator();
    dashboard = attachDashboard(coordinator, { maxStreams: 1 });
    url = await coordinator.listen();
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const first = readEvents(url + '/api/events', () => opened());
    await open;
    const second = await fetch(url + '/api/events');
    expect(second.status).toBe(503);
    dashboard.close();
    expect((await first).frames.map((f) => f.event)).toEqual(['snapshot']);
  });
});
