import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startClient, type ClientEvent } from '../../../src/client/clientNode.js';
import type { ExperimentConfigInput } from '../../../src/cli/config/experimentConfig.js';
import { describeWaiting, ProgressCounter, ProgressTotals } from '../../../src/cli/simulation/clientProgress.js';
import { reportJoins } from '../../../src/cli/simulation/joinProgress.js';
import { generateIdentity } from '../../../src/crypto/identity.js';
import { encodeBase64 } from '../../../src/crypto/keyEncoding.js';
import { writeSecretKeyFile } from '../../../src/crypto/keyFile.js';
import { freePort, repoRoot, startCli, type CliRun } from '../../helpers/cli.js';
import { LinearTrainer } from '../../helpers/linearTrainer.js';
import { silent } from '../../helpers/silentLogger.js';
import { waitUntil } from '../../helpers/waitUntil.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('clients waiting to reconnect', () => {
  it('are counted per client while retrying, by their last reason, and leave the count when welcomed or refused', () => {
    const counter = new ProgressCounter();
    const retry = (reason: string): ClientEvent => ({ type: 'retrying', cause: 'unreachable', reason, delayMs: 1000 });
    counter.onEvent(retry('connect EMFILE'), 'a');
    counter.onEvent(retry('connect ECONNREFUSED'), 'b');
    counter.onEvent(retry('connect EMFILE'), 'b'); // b's last reason replaces its first: still one client
    counter.onEvent(retry('connect EMFILE'), 'c');
    counter.onEvent({ type: 'welcome', runId: 'r', clientId: 'id' }, 'c');
    counter.onEvent(retry('connect ECONNREFUSED'), 'd');
    counter.onEvent({ type: 'refused', reason: 'not on the access list' }, 'd');
    expect(counter.waiting()).toEqual({ count: 2, reasons: { 'unreachable: connect EMFILE': 2 } });
    expect(describeWaiting(counter.waiting())).toBe('2 waiting to reconnect (unreachable: connect EMFILE)');
    counter.onEvent(retry('socket hang up'), 'e');
    expect(describeWaiting(counter.waiting())).toBe('3 waiting to reconnect (most, 2: unreachable: connect EMFILE)');
    // Events without a client name (counts only) leave the gauge alone.
    counter.onEvent(retry('connect EMFILE'));
    expect(counter.waiting().count).toBe(3);
    expect(describeWaiting({ count: 0, reasons: {} })).toBe('');
  });

  it("add up over threads from each thread's latest snapshot, not from every report", () => {
    const totals = new ProgressTotals();
    cleanups.push(() => totals.close());
    const report = (thread: number, count: number) => ({ joined: 0, trained: 0, evaluated: 0, failed: 0, refused: 0, retries: 0, lastRetry: '', round: 0, thread, waiting: { count, reasons: { 'busy: slots': count } } });
    totals.add(report(1, 5));
    totals.add(report(2, 3));
    totals.add(report(1, 4)); // thread 1 now has 4 waiting, not 5 + 4
    expect(totals.totals.waiting).toEqual({ count: 7, reasons: { 'busy: slots': 7 } });
  });

  it('are named in a simulation\'s join line while the coordinator lacks clients, which stops once all are in', async () => {
    const url = `http://127.0.0.1:${await freePort()}`; // nobody listens: every client retries as unreachable
    const local = new ProgressCounter();
    const totals = new ProgressTotals();
    const lines: string[] = [];
    let connected = 0;
    const clients = Array.from({ length: 3 }, (_, i) =>
      startClient({ url, name: `site-${i}`, trainer: new LinearTrainer([[1]], [1]), logger: silent, reconnectDelayMs: 50, reconnectDelayMaxMs: 100, onEvent: (e) => local.onEvent(e, `site-${i}`) }),
    );
    cleanups.push(() => Promise.all(clients.map((c) => c.stop())), () => totals.close());
    const stop = reportJoins({ connected: () => connected, clients: 3, totals, local, print: (l) => lines.push(l), everyMs: 100 });
    cleanups.push(stop);
    await waitUntil(() => lines.some((l) => l.startsWith('clients: 0 of 3 connected, 3 waiting to reconnect (unreachable: ')), 'a join line naming the 3 waiting clients');
    expect(lines.at(-1)).toMatch(/^clients: 0 of 3 connected, 3 waiting to reconnect \(unreachable: .*ECONNREFUSED.*\)$/);
    connected = 3;
    await new Promise((r) => setTimeout(r, 300));
    const printed = lines.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(lines.length).toBe(printed); // every client in: the line stops
  });
});

describe('`cohort host` progress with a coordinator it cannot reach', () => {
  it('says how many of its clients wait to reconnect, and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-join-progress-'));
    const experiment: ExperimentConfigInput = {
      name: 'join-progress',
      seed: 3,
      rounds: 1,
      backend: 'cpu',
      logLevel: 'silent',
      model: { type: 'mlp', hidden: [4], outputs: 1 },
      training: { epochs: 1, batchSize: 16, learningRate: 0.01 },
      strategy: { minFitClients: 2 },
      dataDefaults: { path: join(repoRoot, 'examples/breast-cancer/data/breast_cancer.csv'), label: 'target', testFraction: 0.25, seed: 7 },
      partition: { type: 'iid', clients: 6 },
      access: { mode: 'virtual-clients', key: 'hosts.key' },
      centralBaseline: false,
    };
    writeSecretKeyFile(join(dir, 'hosts.key'), generateIdentity());
    writeFileSync(join(dir, 'experiment.yaml'), stringify(experiment));
    const port = await freePort();
    const host: CliRun = startCli(['host', '--config', join(dir, 'experiment.yaml'), '--part', '1/1', '--url', `http://127.0.0.1:${port}`, '--coordinator-key', encodeBase64(generateIdentity().publicKey), '--workers', '0', '--progress', '1']);
    cleanups.push(() => host.child.kill('SIGKILL'));
    await host.waitFor(/6 waiting to reconnect \(unreachable: .*ECONNREFUSED/);
    expect(host.output.stdout).toMatch(/^host 1\/1: 0 joins of 6 clients, .*, 6 waiting to reconnect \(unreachable: connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/m);
  }, 60_000);
});
