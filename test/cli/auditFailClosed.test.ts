import { spawn } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/crypto/auditLog.js';
import { ed25519AuditSigner } from '../../src/crypto/auditSigner.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import { writeSecretKeyFile } from '../../src/crypto/keyFile.js';
import { freePort, repoRoot } from '../helpers/cli.js';
import type { Identity } from '../../src/crypto/identity.js';
import { rawHandshake, rawHello } from '../helpers/rawHandshake.js';

// The disk is "full" for the coordinator process: RLIMIT_FSIZE (ulimit -f, KiB) makes a write past it fail with
// EFBIG (Node ignores SIGXFSZ), exactly as ENOSPC would. The audit log is filled to just under the limit first.
const LIMIT_KIB = 4096;

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function coordinatorOnFullDisk(failClosed: boolean, observer: Identity) {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-failclosed-'));
  const identity = generateIdentity();
  writeSecretKeyFile(join(dir, 'coordinator.key'), identity);
  const log = AuditLog.open(join(dir, 'fc.audit.jsonl'), ed25519AuditSigner(identity.secretKey), { sync: false });
  // Filled to leave 900 bytes: room for the run-started entry (about 550), not for a connection after it.
  const limit = LIMIT_KIB * 1024;
  let line = 0;
  for (let size = 0; size < limit - 4000; ) {
    log.append('filler', { note: 'x'.repeat(900) });
    line = statSync(log.path).size - size;
    size += line;
  }
  log.append('filler', { note: 'x'.repeat(900 + (limit - statSync(log.path).size - 900) - line) });
  expect(limit - statSync(log.path).size).toBeGreaterThan(880);
  expect(limit - statSync(log.path).size).toBeLessThan(920);
  log.close();
  const port = await freePort();
  writeFileSync(
    join(dir, 'coordinator.yaml'),
    `name: fc\nseed: 1\nrounds: 1\nmodel: { type: mlp, hidden: [4], outputs: 1, inputs: 30 }\nstrategy: { minFitClients: 1 }\n` +
      `coordinator: { port: ${port} }\nidentity: { key: coordinator.key }\nstore: { path: fc.db }\naudit: { failClosed: ${failClosed} }\n` +
      `access:\n  peers:\n    - { name: watcher, publicKey: "${encodeBase64(observer.publicKey)}", role: observer }\n`,
  );
  const cli = `exec ${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts coordinator --config ${JSON.stringify(join(dir, 'coordinator.yaml'))}`;
  const child = spawn('bash', ['-c', `ulimit -f ${LIMIT_KIB}; ${cli}`], { cwd: repoRoot, env: { ...process.env, COHORT_BACKEND: 'cpu' } });
  cleanups.push(() => child.kill('SIGKILL'));
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!/listening on/.test(output.stdout) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  expect(output.stdout, output.stderr).toMatch(/listening on/);
  return { url: `http://127.0.0.1:${port}`, output, exited, child };
}

/** A listed observer joins: its connection is an audit entry written at once (refusals are only counted). */
async function observerJoins(url: string, observer: Identity): Promise<void> {
  const socket = io(url, { transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve) => {
    socket.on('connect', () => void rawHandshake(socket, rawHello('watcher', {}, observer)).catch(() => undefined).finally(() => resolve()));
    socket.on('connect_error', () => resolve());
  });
  await new Promise((r) => setTimeout(r, 300));
  socket.disconnect();
}

describe('audit.failClosed', () => {
  it('stops the coordinator at the first audit entry it cannot write; without it the coordinator goes on unrecorded', async () => {
    const observer = generateIdentity();
    const closed = await coordinatorOnFullDisk(true, observer);
    await observerJoins(closed.url, observer);
    const code = await Promise.race([closed.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000))]);
    expect(code, closed.output.stdout + closed.output.stderr).toBe(1);
    expect(closed.output.stdout).toMatch(/audit log: .*fc\.audit\.jsonl \(fail-closed: the coordinator stops if an entry cannot be written\)/);
    expect(closed.output.stdout).toMatch(/^error: the audit log cannot be written \(audit\.failClosed\): audit log .* writing entry seq \d+ failed: EFBIG/m);
    expect(closed.output.stderr).toMatch(/error: the coordinator halted: the audit log cannot be written/);

    // The default (fail-open): the same failure is logged and the coordinator keeps serving.
    const open = await coordinatorOnFullDisk(false, observer);
    await observerJoins(open.url, observer);
    await observerJoins(open.url, observer);
    expect(open.child.exitCode).toBeNull();
    expect(open.output.stderr).toMatch(/could not append to the audit log/);
  }, 120_000);
});
