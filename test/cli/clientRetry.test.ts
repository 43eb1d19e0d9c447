import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/client/model/buildModel.js';
import { modelSpecSchema } from '../../src/client/model/modelSpec.js';
import { readModelWeights } from '../../src/client/model/modelWeights.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { freePort, repoRoot, startCli, type CliRun } from '../helpers/cli.js';
import { silent } from '../helpers/silentLogger.js';
import { connectRawSocket } from '../helpers/socketPair.js';

// The hospital's node is a real `cohort client` process; the coordinator runs in the test, so the test can
// hold its handshake slots and say when it starts.
const model = modelSpecSchema.parse({ type: 'mlp', hidden: [4], outputs: 1 });
const initialWeights = (() => {
  const m = buildModel(model, 30, 3);
  const w = readModelWeights(m);
  m.dispose();
  return w;
})();
const fit = { epochs: 1, batchSize: 16, learningRate: 0.01 };

function clientConfig(url: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-retry-'));
  const path = join(dir, 'north.yaml');
  const data = join(repoRoot, 'examples/breast-cancer/data/hospitals/north.csv');
  writeFileSync(path, `name: north\ncoordinator: ${url}\nlogLevel: warn\nmodel: { type: mlp, hidden: [4], outputs: 1 }\ndata: { path: ${data}, label: target }\n`);
  return path;
}

/** Resolves once the process printed `pattern`; fails (with what it printed) if it exits first or stays silent. */
async function printed(run: CliRun, pattern: RegExp, withinMs = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const exited = run.exited.then((r) => {
    throw new Error(`the client exited (code ${r.code}) before printing ${pattern}:\n${r.stdout}\n${r.stderr}`);
  });
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${pattern} within ${withinMs} ms:\n${run.output.stdout}\n${run.output.stderr}`)), withinMs);
  });
  try {
    await Promise.race([run.waitFor(pattern), exited, silence]);
  } finally {
    clearTimeout(timer);
    exited.catch(() => undefined);
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a `cohort client` process that cannot get in yet', () => {
  it('survives a refusal for load, says when it retries, and joins and completes the run once a slot is free', async () => {
    const coordinator = await Coordinator.start({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights, rounds: 2, maxPendingHandshakes: 1, helloTimeoutMs: 120_000, logger: silent });
    cleanups.push(() => coordinator.close());
    // Holds the only handshake slot and says nothing, as the 64 idle sockets of the attack did.
    const squatter = await connectRawSocket(coordinator.url);
    cleanups.push(() => squatter.disconnect());

    const client = startCli(['client', '--config', clientConfig(coordinator.url)]);
    cleanups.push(() => client.child.kill('SIGKILL'));
    await printed(client, /^refused: busy; retrying in [\d.]+ s \(too many handshakes in progress \(limit 1\)\)$/m);
    expect(coordinator.refusals).toBeGreaterThanOrEqual(1);
    expect(coordinator.clients).toEqual([]);

    squatter.disconnect(); // the slot frees; the client comes back at the time it announced
    const result = await coordinator.run();
    expect(result.history.map((r) => r.fit.outcomes.map((o) => o.client))).toEqual([['north'], ['north']]);
    const exit = await client.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/^joined run /m);
    expect(exit.stdout).toContain(`run ended: run ${coordinator.runId} completed 2 rounds`);
    // Refused for load is not refused: the permanent-refusal line never appears.
    expect(exit.stdout).not.toMatch(/^refused: (?!busy)/m);
  });

  it('says it is waiting for a coordinator that is not up yet, then joins it when it starts', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const client = startCli(['client', '--config', clientConfig(url)]);
    cleanups.push(() => client.child.kill('SIGKILL'));
    await printed(client, new RegExp(`^waiting for http://127\\.0\\.0\\.1:${port}; retrying in [\\d.]+ s$`, 'm'));

    const coordinator = await Coordinator.start({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights, rounds: 1, port, logger: silent });
    cleanups.push(() => coordinator.close());
    const result = await coordinator.run();
    expect(result.history[0]!.fit.outcomes.map((o) => o.client)).toEqual(['north']);
    const exit = await client.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toContain(`run ended: run ${coordinator.runId} completed 1 rounds`);
  });
});
