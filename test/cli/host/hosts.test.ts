import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { experimentConfigSchema, type ExperimentConfigInput } from '../../../src/cli/config/experimentConfig.js';
import { loadConfig } from '../../../src/cli/config/loadConfig.js';
import { runCoordinator } from '../../../src/cli/runCoordinator.js';
import { simulate } from '../../../src/cli/simulate.js';
import { generateIdentity } from '../../../src/crypto/identity.js';
import { writeSecretKeyFile } from '../../../src/crypto/keyFile.js';
import { encodeBase64 } from '../../../src/crypto/keyEncoding.js';
import { weightsHash } from '../../../src/coordinator/weightsHash.js';
import { repoRoot, startCli, type CliRun } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-hosts-'));
const data = join(repoRoot, 'examples/breast-cancer/data/breast_cancer.csv');
// 30 inputs x 3,300 hidden units + 3,300 + 3,300 + 1: 105,601 parameters, the size every capability runs at once.
const experiment: ExperimentConfigInput = {
  name: 'hosts-loopback',
  seed: 11,
  rounds: 2,
  backend: 'cpu',
  logLevel: 'silent',
  model: { type: 'mlp', hidden: [3300], outputs: 1, inputs: 30 },
  training: { epochs: 1, batchSize: 8, learningRate: 0.01 },
  // Every client must have joined before round 1: the cohort is sampled from those present.
  strategy: { fractionFit: 0.2, fractionEvaluate: 0.2, minFitClients: 4, minAvailableClients: 40 },
  dataDefaults: { path: data, label: 'target', testFraction: 0.25, seed: 7 },
  partition: { type: 'iid', clients: 40 },
  access: { mode: 'virtual-clients', key: 'hosts.key' },
  coordinator: { port: 0, waitForClientsSeconds: 120 },
  store: { path: 'run.db' },
  centralBaseline: false,
};
writeSecretKeyFile(join(dir, 'hosts.key'), generateIdentity());
writeFileSync(join(dir, 'experiment.yaml'), stringify(experiment));
// Another researcher's key file: the same experiment, keys the coordinator does not hold.
const other = mkdtempSync(join(tmpdir(), 'cohort-hosts-other-'));
writeSecretKeyFile(join(other, 'hosts.key'), generateIdentity());
writeFileSync(join(other, 'experiment.yaml'), stringify(experiment));

const hosts: CliRun[] = [];
afterAll(() => hosts.forEach((h) => h.child.kill()));

/** The coordinator in this process (its final weights in hand), printing its URL and key as `cohort coordinator` does. */
function coordinator() {
  const lines: string[] = [];
  let announce: (value: { url: string; key: string }) => void = () => undefined;
  const ready = new Promise<{ url: string; key: string }>((r) => (announce = r));
  let key = '';
  const print = (line: string) => {
    lines.push(line);
    key = /fresh key for this run, (\S+)/.exec(line)?.[1] ?? key;
    const url = /listening on (http:\/\/\S+);/.exec(line)?.[1];
    if (url) announce({ url, key });
  };
  const run = runCoordinator(loadConfig(join(dir, 'experiment.yaml'), experimentConfigSchema), print, join(dir, 'experiment.yaml'));
  return { lines, ready, run };
}

const host = (configDir: string, part: string, url: string, key: string) => {
  const run = startCli(['host', '--config', join(configDir, 'experiment.yaml'), '--part', part, '--url', url, '--coordinator-key', key, '--workers', '0', '--progress', '0']);
  hosts.push(run);
  return run;
};

describe('cohort host', () => {
  it("two host processes on loopback run a partition's 40 virtual clients to the model a single-process simulation of the same seed reaches, bit for bit; a host without the key file is refused", async () => {
    const coord = coordinator();
    const { url, key } = await coord.ready;
    expect(coord.lines.some((l) => /^access: 40 virtual clients, keys derived from hosts\.key \(experiment fingerprint [0-9a-f]{16}\)/.test(l))).toBe(true);

    // A host with the same experiment but another key file: every one of its clients is refused, and it says why.
    const outsider = await host(other, '1/2', url, key).exited;
    expect(outsider.code).toBe(1);
    expect(outsider.stderr).toMatch(/error: the coordinator refused 20 of this host's 20 virtual clients \(first: client-00: coordinator refused client-00: key \w+ is not the key the access list holds for "client-00".*give every host the coordinator's experiment file and key file/);
    // A host pinning another coordinator key refuses the coordinator itself: nothing of it trains.
    const misled = await host(dir, '1/2', url, encodeBase64(generateIdentity().publicKey)).exited;
    expect(misled.code).toBe(1);
    expect(misled.stderr).toMatch(/refused 20 of this host's 20 virtual clients \(first: client-00: coordinator refused client-00: .*coordinator/);

    const [first, second] = [host(dir, '1/2', url, key), host(dir, '2/2', url, key)];
    const run = await coord.run;
    const [a, b] = await Promise.all([first.exited, second.exited]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toContain('host 1/2: virtual clients client-00 .. client-19 (20 of 40)');
    expect(b.stdout).toContain('host 2/2: virtual clients client-20 .. client-39 (20 of 40)');
    expect(a.stdout).toMatch(/host 1\/2: 20 joins of 20 clients, RSS \d+ MB, round 2, \d+ trained/);
    expect(run.history).toHaveLength(2);
    // 20 % of 40 per round, from both hosts' clients.
    const trained = run.history.flatMap((r) => r.fit?.outcomes.map((o) => o.client) ?? []);
    expect(trained).toHaveLength(16);
    expect(trained.some((c) => c < 'client-20') && trained.some((c) => c >= 'client-20')).toBe(true);

    // The same experiment in one process: the same clients sampled, the same rows, the same model.
    const single = await simulate(loadConfig(join(dir, 'experiment.yaml'), experimentConfigSchema), { baseDir: dir, print: () => undefined });
    expect(single.run.history.map((r) => r.fit?.outcomes.map((o) => o.client).sort())).toEqual(run.history.map((r) => r.fit?.outcomes.map((o) => o.client).sort()));
    expect(run.weights.reduce((n, t) => n + t.data.length, 0)).toBe(105_601);
    expect(weightsHash(run.weights)).toBe(weightsHash(single.run.weights));
  }, 300_000);
});
