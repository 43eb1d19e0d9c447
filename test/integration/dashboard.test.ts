import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvaluateConfig } from '../../src/client/trainer.js';
import { attachObservability } from '../../src/coordinator/observability/index.js';
import type { DashboardSnapshot } from '../../src/coordinator/observability/index.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { CHROMIUM_ARGS, findChromium } from '../helpers/chromium.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';

const SCREENSHOT = fileURLToPath(new URL('../../test-output/dashboard.png', import.meta.url));
const ROUNDS = 6;
// An untrusted client name: the page must show it as text and never run it.
const HOSTILE = '<img src=x onerror=alert(1)>';

/** A LinearTrainer that also reports accuracy: the share of its points predicted within 0.5. */
class ScoredLinearTrainer extends LinearTrainer {
  override async evaluate(config: EvaluateConfig) {
    const base = await super.evaluate(config);
    const { w, b } = this;
    const hits = this.points.xs.filter((x, i) => Math.abs(x[0]! * w[0]! + x[1]! * w[1]! + b[0]! - this.points.ys[i]!) < 0.5).length;
    return { ...base, metrics: { ...base.metrics, accuracy: hits / this.points.xs.length } };
  }

  constructor(
    readonly points: { xs: number[][]; ys: number[] },
    name: string,
  ) {
    super(points.xs, points.ys, name);
  }
}

const zeros = linearZeros;

async function openBrowser(): Promise<{ context: BrowserContext; profile: string }> {
  const browser = await findChromium();
  console.log(`dashboard test browser: ${browser.source} (${browser.executablePath})`);
  const profile = mkdtempSync(join(tmpdir(), 'cohort-dashboard-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: browser.executablePath, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  return { context, profile };
}

const aggregatePoints = (page: Page, chart: string) => page.locator(`#${chart} g[data-series="aggregate"] circle`).count();

let fed: TestFederation;
let browser: { context: BrowserContext; profile: string } | undefined;
afterEach(async () => {
  await browser?.context.close();
  if (browser) rmSync(browser.profile, { recursive: true, force: true });
  browser = undefined;
  await fed.close();
});

describe('the dashboard in a real browser', () => {
  it('shows rounds live as they complete, lists the clients, escapes their names, and is read-only', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 3, fit: { epochs: 3, batchSize: 8, learningRate: 0.2 } }),
      initialWeights: zeros(),
      rounds: ROUNDS,
      roundTimeoutMs: 1_200,
      logger: pino({ level: 'silent' }),
    });
    const observability = attachObservability(coordinator, { dashboard: { title: 'Heart disease, 3 hospitals', rounds: ROUNDS } });

    browser = await openBrowser();
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    // The observer's link: the token becomes an HttpOnly cookie and leaves the address bar.
    const response = await page.goto(`${coordinator.url}/?token=${observability.token}`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${coordinator.url}/`);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'; script-src 'sha256-/);
    await page.waitForSelector('body[data-phase="waiting"]');
    expect(await page.locator('#card-privacy').textContent()).toBe('not configured');

    const names = ['cleveland', 'hungary', HOSTILE];
    const trainers = names.map((name, i) => {
      const d = linearData(30 + 10 * i, i + 1);
      // The third hospital's labels are shifted: a different population, so the fairness gap is real.
      return new ScoredLinearTrainer({ xs: d.xs, ys: i === 2 ? d.ys.map((y) => y + 0.6) : d.ys }, name);
    });
    for (const t of trainers) t.beforeFit = () => new Promise((r) => setTimeout(r, 300));
    // The hostile client straggles in round 3 and is dropped at the deadline.
    trainers[2]!.beforeFit = (c) => new Promise((r) => setTimeout(r, c.round === 3 ? 1_800 : 300));
    for (const t of trainers) fed.client(coordinator.url, t.name, t, { logger: pino({ level: 'silent' }) });
    const run = coordinator.run();

    // The charts gain points as rounds complete: one, then more, pushed without a reload.
    await page.waitForSelector('#loss-chart g[data-series="aggregate"] circle');
    const before = await aggregatePoints(page, 'loss-chart');
    await expect.poll(() => aggregatePoints(page, 'loss-chart'), { timeout: 15_000 }).toBeGreaterThan(before);
    const after = await aggregatePoints(page, 'loss-chart');
    expect(after).toBeGreaterThan(before);
    console.log(`dashboard: loss chart went from ${before} to ${after} aggregate points without a reload`);

    // The client table lists every client, the hostile name as plain text.
    await expect.poll(() => page.locator('#clients tbody tr[data-client]').count(), { timeout: 15_000 }).toBe(3);
    const listed = await page.locator('#clients tbody tr[data-client] td.name').allTextContents();
    expect(listed.sort()).toEqual([...names].sort());
    expect(await page.locator('#clients img').count()).toBe(0);

    // Screenshot while the last round runs: clients still connected, all panels filled.
    await expect.poll(async () => Number(await page.locator('body').getAttribute('data-rounds')), { timeout: 15_000 }).toBeGreaterThanOrEqual(ROUNDS - 1);
    await expect.poll(() => page.locator('#drift tbody tr[data-client]').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`dashboard screenshot: ${SCREENSHOT}`);

    const result = await run;
    await page.waitForSelector('body[data-phase="completed"]');
    expect(await page.locator('#accuracy-chart g[data-series="aggregate"] circle').count()).toBe(ROUNDS);
    expect(await page.locator('#timeline tbody tr[data-round]').count()).toBe(ROUNDS);
    // Round 3 names its dropped client and why.
    expect(await page.locator('#timeline tr[data-round="3"] .drop').first().textContent()).toBe(`${HOSTILE} (fit): timeout`);
    expect(await page.locator('#live').textContent()).toBe('run ended');

    // The JSON API agrees with the run, and the routes are read-only.
    const asObserver = { headers: { authorization: `Bearer ${observability.token}` } };
    const snapshot = (await (await fetch(`${coordinator.url}/api/snapshot`, asObserver)).json()) as DashboardSnapshot;
    expect(snapshot.rounds.map((r) => r.round)).toEqual(result.history.map((r) => r.round));
    expect(snapshot.privacy).toEqual({ configured: false });
    // The final state does not show the clients as connected: the run ended them.
    expect(snapshot.clients.map((c) => c.status)).toEqual(['left', 'left', 'left']);
    const fairness = (await (await fetch(`${coordinator.url}/api/fairness`, asObserver)).json()) as DashboardSnapshot['fairness'];
    expect(fairness.rounds).toHaveLength(ROUNDS);
    expect(fairness.latest!.loss!.worst.client).toBe(HOSTILE);
    expect(fairness.latest!.accuracy!.gapMeanToWorst).toBeGreaterThanOrEqual(0);
    expect((await fetch(`${coordinator.url}/api/rounds`, { method: 'POST', ...asObserver })).status).toBe(405);
    expect(JSON.stringify(snapshot)).not.toMatch(/publicKey|identityKey|secret/i);

    expect(problems).toEqual([]);
    observability.close();
  });
});
