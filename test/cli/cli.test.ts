import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const cli = [process.execPath, '--import', 'tsx', join(root, 'src/cli/main.ts')];

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(cli[0]!, [...cli.slice(1), ...args], { cwd: root, env: { ...process.env, COHORT_BACKEND: 'cpu', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('the cohort command', () => {
  it('simulates the shipped breast-cancer federation and prints rounds and the baseline', async () => {
    const r = await run(['simulate', '--config', 'examples/breast-cancer/experiment.yaml', '--rounds', '2']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend: cpu/m);
    expect(r.stdout).toMatch(/^round 1\/2 {2}clients 3\/3 /m);
    expect(r.stdout).toMatch(/^round 2\/2 {2}clients 3\/3 /m);
    expect(r.stdout).toMatch(/federated model, pooled test set \(143 rows\): accuracy \d+\.\d\d%/);
    expect(r.stdout).toMatch(/central baseline, same split: +accuracy/);
  });

  it('exits 1 with the field named for an invalid config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-cli-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(join(root, 'examples/breast-cancer/experiment.yaml'), 'utf8').replace('fractionFit: 1.0', 'fractionFit: 2'));
    const r = await run(['simulate', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*bad\.yaml is not a valid configuration:\n {2}strategy\.fractionFit: Too big/);
  });

  it('runs a coordinator and three client processes to the end of the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-dist-'));
    const port = await freePort();
    const src = join(root, 'examples/breast-cancer/distributed');
    const rewrite = (name: string) => {
      const text = readFileSync(join(src, name), 'utf8')
        .replace('port: 8080', `port: ${port}`)
        .replace('http://127.0.0.1:8080', `http://127.0.0.1:${port}`)
        .replace('rounds: 10', 'rounds: 2')
        .replace(/path: \.\.\/data/, `path: ${join(root, 'examples/breast-cancer/data')}`);
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const coordinator = run(['coordinator', '--config', rewrite('coordinator.yaml')]);
    const clients = ['north', 'central', 'south'].map((h) => run(['client', '--config', rewrite(`${h}.yaml`)]));
    const [c, ...hs] = await Promise.all([coordinator, ...clients]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+; waiting for 3 clients/);
    expect(c.stdout).toMatch(/^round 2\/2 {2}clients 3\/3 .* fed acc 0\.9\d{3}/m);
    for (const h of hs) {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/applied the federation's standardization of 30 features/);
      expect(h.stdout).toMatch(/round 2: test loss \d\.\d{4}, accuracy/);
      expect(h.stdout).toMatch(/run ended: run .* completed 2 rounds/);
    }
  });

  // The machine's own node may predate 22 (the project pins 22 for npm scripts); the built CLI must say so.
  const oldNode = spawnSync('bash', ['-c', 'for n in $(which -a node); do v=$($n -p "process.versions.node.split(\\".\\")[0]"); if [ "$v" -lt 22 ]; then echo $n; break; fi; done'], {
    encoding: 'utf8',
    env: { PATH: (process.env.PATH ?? '').split(':').filter((p) => !p.includes('node_modules')).join(':') },
  }).stdout.trim();

  it.skipIf(!oldNode)('tells a user on an old Node which version it needs', () => {
    const r = spawnSync(oldNode, [join(root, 'dist/cli/main.js'), '--version'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/cohort needs Node\.js 22 or newer; this is v\d+/);
    expect(r.status).toBe(1);
  });
});
