import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { attachObservability, ObservabilityServer, OBSERVER_COOKIE } from '../../src/coordinator/observability/index.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { CHROMIUM_ARGS, findChromium } from '../helpers/chromium.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { silent } from '../helpers/silentLogger.js';

let fed: TestFederation;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await fed.close();
});

async function browser(): Promise<BrowserContext> {
  const binary = await findChromium();
  const profile = mkdtempSync(join(tmpdir(), 'cohort-observer-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: binary.executablePath, args: CHROMIUM_ARGS, headless: true });
  closers.push(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** A one-round federation with a named hospital, so the dashboard has per-site figures to leak. */
async function federation() {
  fed = new TestFederation();
  const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit: { epochs: 1, batchSize: 8, learningRate: 0.1 } }), initialWeights: linearZeros(), rounds: 1, logger: silent });
  const d = linearData(25, 1);
  fed.client(coordinator.url, 'st-mary', new LinearTrainer(d.xs, d.ys), { logger: silent });
  return coordinator;
}

describe('dashboard and metrics behind an observer credential', () => {
  it('refuses an anonymous browser and scraper, serves the observer, and never trusts a wrong token', async () => {
    const coordinator = await federation();
    const observability = attachObservability(coordinator, { dashboard: { title: 'access', rounds: 1 } });
    closers.push(() => observability.close());
    await coordinator.run();
    const token = observability.token!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const context = await browser();
    const page = await context.newPage();
    // Anonymous: 401 on the page and on every route, and not one figure of the run in what comes back.
    const anonymous = await page.goto(`${coordinator.url}/`);
    expect(anonymous?.status()).toBe(401);
    expect(anonymous?.headers()['www-authenticate']).toBe('Bearer realm="cohort observer"');
    expect(await page.textContent('body')).toMatch(/an observer token is required/);
    for (const path of ['/api/snapshot', '/api/clients', '/api/events', '/metrics']) {
      const response = await fetch(`${coordinator.url}${path}`);
      const body = await response.text();
      expect(response.status, path).toBe(401);
      expect(body, path).not.toMatch(/st-mary|cohort_round/);
    }
    // A wrong token, in each place a token can be: refused, and no cookie is set.
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect((await page.goto(`${coordinator.url}/?token=${wrong}`))?.status()).toBe(401);
    expect(await context.cookies()).toEqual([]);
    expect((await fetch(`${coordinator.url}/metrics`, { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
    expect((await fetch(`${coordinator.url}/api/clients`, { headers: { cookie: `${OBSERVER_COOKIE}=${wrong}` } })).status).toBe(401);

    // The observer's link: the token becomes an HttpOnly, SameSite=Strict cookie; the page and its API calls are served.
    const served = await page.goto(`${coordinator.url}/?token=${token}`);
    expect(served?.status()).toBe(200);
    expect(page.url()).toBe(`${coordinator.url}/`);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: OBSERVER_COOKIE, httpOnly: true, sameSite: 'Strict' });
    await page.waitForSelector('body[data-phase="completed"]');
    await expect.poll(() => page.locator('#clients tbody tr[data-client] td.name').allTextContents()).toEqual(['st-mary']);
    // A scraper with the bearer token.
    const metrics = await fetch(`${coordinator.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^cohort_rounds_completed_total 1$/m);
  }, 60_000);

  it('serves on another address when asked, and nothing of it on the coordinator port', async () => {
    const coordinator = await federation();
    const server = await ObservabilityServer.listen('127.0.0.1', 0);
    closers.push(() => server.close());
    const observability = attachObservability(coordinator, { server, observers: { tokens: ['operations-team-token-1'] } });
    closers.push(() => observability.close());
    await coordinator.run();
    expect(server.url).not.toBe(coordinator.url);
    expect((await fetch(`${coordinator.url}/`)).status).toBe(404);
    expect((await fetch(`${coordinator.url}/metrics`, { headers: { authorization: 'Bearer operations-team-token-1' } })).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const served = await fetch(`${server.url}/api/clients`, { headers: { authorization: 'Bearer operations-team-token-1' } });
    expect(served.status).toBe(200);
    expect(await served.text()).toMatch(/st-mary/);
    // Too short a token is refused when set up, with the fix named.
    expect(() => attachObservability(coordinator, { server, observers: { tokens: ['short'] } })).toThrow(/at least 16 characters \(got 5\)/);
  }, 60_000);
});
