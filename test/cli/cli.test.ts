import { execFileSync, spawnSync } from 'node:child_process';
import { freePort, repoRoot, runCli, startCli } from '../helpers/cli.js';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { loadConfig } from '../../src/cli/config/loadConfig.js';
import { findOldNode } from '../helpers/oldNode.js';
import { loadCsvData } from '../../src/client/data/index.js';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = repoRoot;
const run = runCli;

describe('the cohort command', () => {
  it('simulates the shipped breast-cancer federation and prints rounds and the baseline', async () => {
    const r = await run(['simulate', '--config', 'examples/breast-cancer/experiment.yaml', '--rounds', '2', '--workers', '2']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend: cpu/m);
    expect(r.stdout).toMatch(/^2 worker threads host 3 clients \(1 to 2 each\)$/m);
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
    const workers = await run(['simulate', '--config', 'examples/breast-cancer/experiment.yaml', '--workers', 'many']);
    expect(workers.code).toBe(1);
    expect(workers.stderr).toMatch(/option '--workers <n\|auto>' argument 'many' is invalid\. give 'auto' or a whole number >= 0/);
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
    expect(c.stdout).toMatch(/^bytes on the socket: [\d.]+ (kB|MB) \(.* received, .* sent\) in 2 rounds .*; model payloads [\d.]+ (kB|MB) of it$/m);
    expect(c.stdout).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43} {3}metrics: .*Authorization: Bearer <token>$/m);
    expect(c.stdout).toMatch(/^round 2\/2 {2}clients 3\/3 .* fed acc 0\.9\d{3}/m);
    for (const h of hs) {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/applied the federation's standardization of 30 features/);
      expect(h.stdout).toMatch(/round 2: test loss \d\.\d{4}, accuracy/);
      expect(h.stdout).toMatch(/run ended: run .* completed 2 rounds/);
    }
  });

  it('with evaluation off, each client process writes the last global as its model file, as `cohort export` does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-final-'));
    const port = await freePort();
    const src = join(root, 'examples/breast-cancer/distributed');
    const rewrite = (name: string) => {
      const text = readFileSync(join(src, name), 'utf8')
        .replace('port: 8080', `port: ${port}`)
        .replace('http://127.0.0.1:8080', `http://127.0.0.1:${port}`)
        .replace('rounds: 10', `rounds: 2\nstore: { path: ${join(dir, 'cohort.db')} }`)
        .replace('strategy: { name: fedavg, minFitClients: 3 }', 'strategy: { name: fedavg, minFitClients: 3, fractionEvaluate: 0 }')
        .replace(/path: \.\.\/data/, `path: ${join(root, 'examples/breast-cancer/data')}`);
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const [c, ...hs] = await Promise.all([run(['coordinator', '--config', rewrite('coordinator.yaml')]), ...['north', 'central', 'south'].map((h) => run(['client', '--config', rewrite(`${h}.yaml`)]))]);
    expect(c.code).toBe(0);
    for (const h of hs) expect(h.code).toBe(0);
    const runId = /\(run ([0-9a-f-]{36})\)/.exec(c.stdout)?.[1];
    expect(runId).toBeDefined();
    const exported = await run(['export', '--store', join(dir, 'cohort.db'), '--run', runId!, '--out', join(dir, 'exported')]);
    expect(exported.code).toBe(0);
    // The coordinator's last global, the federation's standardization folded in as each client folds it.
    const global = readFileSync(join(dir, 'exported', 'weights.bin'));
    for (const h of ['north', 'central', 'south']) {
      expect(readFileSync(join(dir, `${h}-model`, 'weights.bin')).equals(global)).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, `${h}-model`, 'preprocessing.json'), 'utf8'))).toMatchObject({ round: 2 });
    }
  });

  it('runs a locked-down federation from the command line: keys, allowlist, pinned key, TLS, CKKS, audit logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-secure-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=cohort test CA', '-days', '1');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext');
    const publicKeys: Record<string, string> = {};
    for (const who of ['coordinator', 'north', 'central', 'south']) {
      const r = await run(['keygen', '--out', join(dir, `${who}.key`)]);
      expect(r.code).toBe(0);
      publicKeys[who] = /public key: (\S+)/.exec(r.stdout)![1]!;
      expect(statSync(join(dir, `${who}.key`)).mode & 0o777).toBe(0o600);
    }
    const port = await freePort();
    const data = join(root, 'examples/breast-cancer/data/hospitals');
    writeFileSync(
      join(dir, 'coordinator.yaml'),
      `name: secure\nseed: 1\nrounds: 2\nmodel: { type: mlp, hidden: [8], outputs: 1, inputs: 30 }\nstrategy: { minFitClients: 3 }\nsecureAggregation: ckks\n` +
        `coordinator: { port: ${port} }\nidentity: { key: coordinator.key }\ntls: { cert: server.pem, key: server.key }\n` +
        `access:\n  peers:\n${['north', 'central', 'south'].map((h) => `    - { name: ${h}, publicKey: "${publicKeys[h]}" }`).join('\n')}\n`,
    );
    for (const h of ['north', 'central', 'south']) {
      writeFileSync(
        join(dir, `${h}.yaml`),
        `name: ${h}\ncoordinator: https://127.0.0.1:${port}\nmodel: { type: mlp, hidden: [8], outputs: 1 }\nidentity: { key: ${h}.key }\n` +
          `coordinatorKey: "${publicKeys.coordinator}"\ntls: { ca: ca.pem }\ndata: { path: ${join(data, `${h}.csv`)}, label: target }\n`,
      );
    }
    const [c, ...hs] = await Promise.all([run(['coordinator', '--config', join(dir, 'coordinator.yaml')]), ...['north', 'central', 'south'].map((h) => run(['client', '--config', join(dir, `${h}.yaml`)]))]);
    expect(c.stderr).not.toMatch(/error/);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/);
    expect(c.stdout).toMatch(/^round 2\/2 {2}clients 3\/3 /m);
    for (const h of hs) {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/final model written to .*-model \(model\.json \+ weights\.bin \+ preprocessing\.json: `cohort predict --model /);
    }
    // Under CKKS only the clients hold the model; each wrote the same one (30*8+8 + 8+1 float32 parameters).
    const weights = ['north', 'central', 'south'].map((h) => readFileSync(join(dir, `${h}-model`, 'weights.bin')));
    expect(weights[0]!.length).toBe(257 * 4);
    expect(weights[1]!.equals(weights[0]!)).toBe(true);
    expect(weights[2]!.equals(weights[0]!)).toBe(true);
    // Each client's copy carries its preprocessing: on north's raw test rows it scores north's last evaluation.
    const { test } = loadCsvData({ path: join(data, 'north.csv'), label: 'target', standardize: false });
    const width = test.featureNames.length;
    const rows = Array.from({ length: test.rows }, (_, r) => [...test.x.subarray(r * width, (r + 1) * width), test.y[r]].join(','));
    writeFileSync(join(dir, 'north-test.csv'), `${[...test.featureNames, 'target'].join(',')}\n${rows.join('\n')}\n`);
    const predicted = await run(['predict', '--model', join(dir, 'north-model'), '--data', join(dir, 'north-test.csv')]);
    expect(predicted.code).toBe(0);
    const evaluated = /^round 2: test loss \d\.\d{4}, accuracy (\d\.\d{4})$/m.exec(hs[0]!.stdout)?.[1];
    expect(/^accuracy (\d\.\d{4}) on 75 rows/m.exec(predicted.stdout)?.[1]).toBe(evaluated);
    expect(readFileSync(join(dir, 'secure.audit.jsonl'), 'utf8')).toMatch(/"ckks-key-distribution"/);
    const verified = await run(['audit', 'verify', join(dir, 'secure.audit.jsonl'), '--key', publicKeys.coordinator!]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/audit log ok: \d+ entries/);
    const northLog = readFileSync(join(dir, 'north.audit.jsonl'), 'utf8');
    expect(northLog.match(/"upload-sent"/g)?.length).toBe(5); // statistics, 2 fits, 2 evaluations
    expect((await run(['audit', 'verify', join(dir, 'north.audit.jsonl'), '--key', publicKeys.north!])).code).toBe(0);
    // Tamper with one entry of the coordinator's log: the verifier names it.
    const path = join(dir, 'secure.audit.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[2] = lines[2]!.replace(/"seq":2/, '"seq":2,"x":1').replace('"seq":2,"x":1', '"seq":2');
    lines[3] = lines[3]!.replace(/"time":"[^"]+"/, '"time":"2000-01-01T00:00:00.000Z"');
    writeFileSync(path, lines.join('\n'));
    const tampered = await run(['audit', 'verify', path]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/line 4 \(seq 3\): edited/);
  });

  it('runs client-level DP with features scaled from public ranges at each hospital, and a scaling node never sends moments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-public-'));
    const { publicScaling } = loadConfig(join(root, 'examples/breast-cancer/private.yaml'), experimentConfigSchema);
    const ranges = JSON.stringify(publicScaling);
    const data = join(root, 'examples/breast-cancer/data/hospitals');
    const [port, otherPort] = [await freePort(), await freePort()];
    const coordinator = (name: string, p: number, extra: string) =>
      writeFileSync(
        join(dir, `${name}.yaml`),
        `name: ${name}\nseed: 1\nrounds: 2\nmodel: { type: mlp, hidden: [8], outputs: 1, inputs: 30 }\naccess: { mode: open }\n` +
          `store: { path: ${join(dir, `${name}.db`)} }\ncoordinator: { port: ${p}, waitForClientsSeconds: 60, maxRoundRetries: 0 }\n${extra}`,
      );
    coordinator('private', port, `strategy: { minFitClients: 3 }\nstandardization: public\npublicScaling: ${ranges}\nprivacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1.0e-5 }\n`);
    coordinator('moments', otherPort, 'strategy: { minFitClients: 1 }\nstandardization: federated\n');
    const client = (h: string, p: number) => {
      const path = join(dir, `${h}-${p}.yaml`);
      writeFileSync(path, `name: ${h}\ncoordinator: http://127.0.0.1:${p}\nmodel: { type: mlp, hidden: [8], outputs: 1 }\ndata: { path: ${join(data, `${h}.csv`)}, label: target, publicScaling: ${ranges} }\n`);
      return path;
    };
    // A coordinator that asks a public-scaling node for federated standardization's moments gets none.
    const asking = startCli(['coordinator', '--config', join(dir, 'moments.yaml')]);
    const lone = startCli(['client', '--config', client('north', otherPort)]);
    const [c, ...hs] = await Promise.all([run(['coordinator', '--config', join(dir, 'private.yaml')]), ...['north', 'central', 'south'].map((h) => run(['client', '--config', client(h, port)]))]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^round 2\/2 {2}clients 3\/3 .*epsilon/m);
    for (const h of hs) {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/^features scaled from public ranges$/m);
      expect(h.stdout).not.toMatch(/applied the federation's standardization/);
    }
    const refused = await asking.exited;
    lone.child.kill();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: no client sent feature statistics \(north: this client has no feature scaler, so it cannot take part in federated standardization\)$/m);
  }, 240_000);

  // The machine's own node may predate 22 (the project pins 22 for npm scripts); the built CLI must say so.
  const oldNode = findOldNode();

  it.skipIf(!oldNode)('tells a user on an old Node which version it needs', () => {
    const r = spawnSync(oldNode!, [join(root, 'dist/cli/main.js'), '--version'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/cohort needs Node\.js 22 or newer; this is v\d+/);
    expect(r.status).toBe(1);
  });
});
