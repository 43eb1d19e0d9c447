import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ExperimentConfigInput } from '../../src/cli/config/experimentConfig.js';
import { OPEN_FILES_MARGIN, openFileCount, openFileLimit, openFilesProblem } from '../../src/cli/simulation/openFiles.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import { writeSecretKeyFile } from '../../src/crypto/keyFile.js';
import { repoRoot } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-open-files-'));
const clients = 120;
const experiment: ExperimentConfigInput = {
  name: 'open-files',
  seed: 3,
  rounds: 1,
  backend: 'cpu',
  logLevel: 'error',
  model: { type: 'mlp', hidden: [4], outputs: 1, inputs: 30 },
  training: { epochs: 1, batchSize: 16, learningRate: 0.01 },
  // Every client must join: the run waits for all of them, as bench/hosts.ts's does.
  strategy: { minFitClients: 2, minAvailableClients: clients, fractionFit: 0.05, fractionEvaluate: 0.05 },
  dataDefaults: { path: join(repoRoot, 'examples/breast-cancer/data/breast_cancer.csv'), label: 'target', testFraction: 0.25, seed: 7 },
  partition: { type: 'iid', clients },
  access: { mode: 'virtual-clients', key: 'hosts.key' },
  coordinator: { waitForClientsSeconds: 20 },
  centralBaseline: false,
};
writeSecretKeyFile(join(dir, 'hosts.key'), generateIdentity());
writeFileSync(join(dir, 'experiment.yaml'), stringify(experiment));

/** The real `cohort` command in a shell whose open-file limit (soft and hard) is `limit`; killed after 45 s (a stalled run). */
function cohortUnderLimit(limit: number, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string}> {
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${limit} && exec "$@"`, 'sh', process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, COHORT_BACKEND: 'cpu' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const stalled = setTimeout(() => child.kill('SIGKILL'), 45_000);
  return new Promise((r) =>
    child.on('close', (code) => {
      clearTimeout(stalled);
      r({ code, stdout, stderr });
    }),
  );
}

describe('a simulation whose sockets do not fit in the open-file limit', () => {
  it('is refused before the coordinator listens, naming the limit, the files needed and the ways around it', async () => {
    // 120 clients beside the coordinator hold 240 sockets: under 260 files a few connections fail with EMFILE,
    // and those clients used to retry until the join deadline ("only 112 of the 120 required clients connected").
    const run = await cohortUnderLimit(260, ['simulate', '--config', join(dir, 'experiment.yaml')]);
    expect(run.code, run.stdout + run.stderr).not.toBe(0);
    const output = run.stdout + run.stderr;
    expect(output).toMatch(/120 virtual clients beside the coordinator in one process need about (\d+) open files \(240 sockets, \d+ files open already, 64 to spare\) but this process may open 260 \(ulimit -n\)/);
    expect(output).toContain('run the clients in `cohort host` processes');
    expect(output).not.toContain('coordinator listening');
    expect(output).not.toMatch(/required clients connected/);
  }, 60_000);

  it('runs to the end under a limit the check admits (round 1 waits for all 120 clients)', async () => {
    // 240 sockets + what a fresh process holds (tsx, tfjs, worker threads) + the margin: a few hundred.
    const run = await cohortUnderLimit(480, ['simulate', '--config', join(dir, 'experiment.yaml')]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^round 1\/1 {2}clients \d+\/\d+ /m);
  }, 60_000);

  it('refuses a `cohort host` part that cannot hold a socket per client, naming --part', async () => {
    const key = encodeBase64(generateIdentity().publicKey);
    const run = await cohortUnderLimit(150, ['host', '--config', join(dir, 'experiment.yaml'), '--part', '1/1', '--url', 'http://127.0.0.1:9', '--coordinator-key', key, '--workers', '0']);
    expect(run.code, run.stdout + run.stderr).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/host 1\/1's 120 virtual clients need about \d+ open files \(120 sockets, .* but this process may open 150 \(ulimit -n\).* split the clients over more hosts \(--part k\/n with a larger n\)/s);
  }, 60_000);

  it('refuses a `cohort coordinator` that could not hold a socket for every client it admits', async () => {
    const run = await cohortUnderLimit(150, ['coordinator', '--config', join(dir, 'experiment.yaml')]);
    expect(run.code, run.stdout + run.stderr).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/the 120 clients this coordinator admits need about \d+ open files \(120 sockets, .* but this process may open 150 \(ulimit -n\).* run the coordinator where the limit is higher/s);
    expect(run.stdout).not.toContain('listening on');
  }, 60_000);
});

describe('openFileLimit() and openFilesProblem()', () => {
  it("reads this process's limit as a shell started from it reports it", () => {
    const shell = spawnSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
    expect(openFileLimit()).toBe(shell === 'unlimited' ? Infinity : Number(shell));
    expect(openFileCount()).toBeGreaterThanOrEqual(3); // stdin, stdout, stderr at least
  });

  it('admits exactly up to the limit, and checks nothing where the limit is unknown', () => {
    const fits = { sockets: 1000, open: 40, limit: 1000 + 40 + OPEN_FILES_MARGIN };
    expect(openFilesProblem(fits)).toBeUndefined();
    expect(openFilesProblem({ ...fits, limit: fits.limit - 1 })).toBe(`about ${fits.limit} open files (1000 sockets, 40 files open already, ${OPEN_FILES_MARGIN} to spare) but this process may open ${fits.limit - 1}`);
    expect(openFilesProblem({ ...fits, limit: undefined })).toBeUndefined();
    expect(openFilesProblem({ ...fits, limit: Infinity })).toBeUndefined();
  });
});
