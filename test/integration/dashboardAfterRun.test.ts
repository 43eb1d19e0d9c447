import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { DashboardSnapshot } from '../../src/coordinator/observability/index.js';
import { RunStore } from '../../src/coordinator/store/runStore.js';
import { CHROMIUM_ARGS, findChromium } from '../helpers/chromium.js';
import { freePort, repoRoot, runCli, startCli, type CliRun } from '../helpers/cli.js';

const hospitals = join(repoRoot, 'examples/breast-cancer/data/hospitals');
const ROUNDS = 3;

const dir = mkdtempSync(join(tmpdir(), 'cohort-dashboard-after-'));
let dashboard: CliRun | undefined;
let browser: BrowserContext | undefined;
afterAll(async () => {
  await browser?.close();
  if (dashboard && dashboard.child.exitCode === null) dashboard.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A real `cohort coordinator` with two `cohort client`s, run to its end; resolves with the coordinator's output. */
async function finishedRun(): Promise<string> {
  const port = await freePort();
  writeFileSync(
    join(dir, 'coordinator.yaml'),
    `name: after-the-run\nrounds: ${ROUNDS}\nseed: 3\nmodel: { type: mlp, hidden: [4], outputs: 1, inputs: 30 }\nstrategy: { minFitClients: 2 }\n` +
      `access: { mode: open }\ncoordinator: { port: ${port}, waitForClientsSeconds: 60 }\nstore: { path: runs.db }\n`,
  );
  const clients = ['north', 'central'].map((name) => {
    writeFileSync(join(dir, `${name}.yaml`), `name: ${name}\ncoordinator: http://127.0.0.1:${port}\nmodel: { type: mlp, hidden: [4], outputs: 1 }\ndata: { path: ${join(hospitals, `${name}.csv`)}, label: target }\n`);
    return runCli(['client', '--config', join(dir, `${name}.yaml`)]);
  });
  const coordinator = await runCli(['coordinator', '--config', join(dir, 'coordinator.yaml')]);
  for (const c of await Promise.all(clients)) expect(c.code, c.stderr).toBe(0);
  expect(coordinator.code, coordinator.stderr).toBe(0);
  return coordinator.stdout;
}

describe('a run\'s dashboard after its coordinator has exited', () => {
  it('is served from the store by `cohort dashboard`, behind the observer token, with the rounds and clients the run had', async () => {
    const stdout = await finishedRun();
    // The coordinator's last lines say how to see the dashboard again, and the command they give works as printed.
    const told = /^to see this run's dashboard again: npx cohort dashboard (\S+) --store (\S+)$/m.exec(stdout);
    expect(told, stdout).not.toBeNull();
    const [, prefix, store] = told!;
    expect(store).toBe(join(dir, 'runs.db'));

    dashboard = startCli(['dashboard', prefix!, '--store', store!]);
    await Promise.race([dashboard.waitFor(/^dashboard: /m), dashboard.exited.then((e) => Promise.reject(new Error(`cohort dashboard exited: ${e.stderr}`)))]);
    const link = /^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+) /m.exec(dashboard.output.stdout);
    expect(link, dashboard.output.stdout).not.toBeNull();
    const [, base, token] = link!;
    expect(dashboard.output.stdout).toMatch(/^run [0-9a-f-]{36} "after-the-run": completed, 3 of 3 rounds/m);

    // The observer token guards it as it guarded the live dashboard: none, or a wrong one, gets 401 and no data.
    const anonymous = await fetch(`${base}/api/snapshot`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toMatch(/north|central/);
    expect((await fetch(`${base}/api/snapshot`, { headers: { authorization: `Bearer ${'x'.repeat(43)}` } })).status).toBe(401);
    const asObserver = { headers: { authorization: `Bearer ${token}` } };
    // Read-only: nothing but GET and HEAD.
    expect((await fetch(`${base}/api/rounds`, { method: 'POST', ...asObserver })).status).toBe(405);

    // The API holds what the store holds: every round, both clients, ended.
    const snapshot = (await (await fetch(`${base}/api/snapshot`, asObserver)).json()) as DashboardSnapshot;
    const stored = new RunStore(store!);
    const run = stored.run(prefix!)!;
    const rounds = stored.rounds(run.id);
    stored.close();
    expect(snapshot.runId).toBe(run.id);
    expect(snapshot.status.phase).toBe('completed');
    expect(snapshot.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(snapshot.rounds.map((r) => r.accuracy)).toEqual(rounds.map((r) => r.record.evaluate?.metrics.accuracy));
    expect(snapshot.rounds.map((r) => r.completedAt)).toEqual(rounds.map((r) => r.completedAt));
    expect(snapshot.clients.map((c) => [c.name, c.status, c.leftReason, c.lastRound])).toEqual([
      ['central', 'left', 'the run ended', ROUNDS],
      ['north', 'left', 'the run ended', ROUNDS],
    ]);

    // In a real browser, from the printed link: the page shows the finished run.
    const chromiumBinary = await findChromium();
    const profile = mkdtempSync(join(dir, 'profile-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: chromiumBinary.executablePath, args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    const response = await page.goto(`${base}/?token=${token}`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${base}/`);
    await page.waitForSelector('body[data-phase="completed"]');
    expect(await page.locator('#timeline tbody tr[data-round]').count()).toBe(ROUNDS);
    expect(await page.locator('#accuracy-chart g[data-series="aggregate"] circle').count()).toBe(ROUNDS);
    expect((await page.locator('#clients tbody tr[data-client] td.name').allTextContents()).sort()).toEqual(['central', 'north']);
    expect(await page.locator('#live').textContent()).toBe('run ended');
    expect(problems).toEqual([]);

    // Ctrl-C closes it.
    dashboard.child.kill('SIGINT');
    const exit = await dashboard.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/^dashboard of run \S+ closed \(SIGINT\)$/m);
  });

  it('says what to fix when the store or the run is not there', async () => {
    const missing = await runCli(['dashboard', '--latest', '--store', join(dir, 'nowhere.db')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: no run store at .*nowhere\.db: pass --store with the store the coordinator used/m);
    const unnamed = await runCli(['dashboard', '--store', join(dir, 'runs.db')]);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toMatch(/^error: name the run to show \(`cohort runs` lists them\) or pass --latest$/m);
    const unknown = await runCli(['dashboard', 'ffffffff', '--store', join(dir, 'runs.db')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: no run "ffffffff" in .*runs\.db \(see `cohort runs`\)$/m);
  });
});
