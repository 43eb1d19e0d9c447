import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runExportManifest } from '../../src/cli/inspectRuns.js';
import type { RoundRecord } from '../../src/coordinator/roundRecord.js';
import { RunStore } from '../../src/coordinator/store/runStore.js';
import { repoRoot } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-drain-'));
const db = join(dir, 'runs.db');
const runId = '5eed0000-0000-4000-8000-000000000000';
const ROUNDS = 300;
const CLIENTS = Array.from({ length: 12 }, (_, i) => `hospital-${i}`);

// A run whose record is far beyond a pipe's 64 KiB buffer: 300 rounds of 12 participants.
beforeAll(() => {
  const store = new RunStore(db);
  store.createRun({ id: runId, name: 'long', configHash: 'c'.repeat(64), manifest: { cohortVersion: '0.1.0', seeds: { experiment: 1 } }, roundsPlanned: ROUNDS });
  const weights = [{ name: 'w', shape: [1], data: Float32Array.of(0) }];
  for (let round = 1; round <= ROUNDS; round++) {
    weights[0]!.data[0] = round;
    const record: RoundRecord = {
      round,
      attempts: 1,
      fit: { selected: CLIENTS.length, outcomes: CLIENTS.map((client) => ({ client, numExamples: 100, metrics: { loss: 0.5, accuracy: 0.9 } })), metrics: { loss: 0.5 }, durationMs: 10 },
      evaluate: { loss: 0.4, metrics: { accuracy: 0.91 }, outcomes: [], durationMs: 5 },
      durationMs: 15,
    };
    store.completeRound(runId, record, weights, undefined);
  }
  store.setStatus(runId, 'completed');
  store.close();
});

/** Runs `cohort <args>` with its stdout piped into `cat` (another process), as `| wc -c` or `| jq` would read it. */
function throughPipe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args].map((a) => `'${a}'`).join(' ');
  // The shell reports the cohort process's status, not cat's.
  const child = spawn('bash', ['-c', `set -o pipefail; ${command} | cat`], { cwd: repoRoot, env: { ...process.env, COHORT_BACKEND: 'cpu' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('commands whose output outgrows a pipe buffer', () => {
  it('`cohort show <run> --json | cat` passes on the whole record, valid JSON, not the first 64 KiB', async () => {
    const r = await throughPipe(['show', runId.slice(0, 8), '--store', db, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Exactly what the command renders in-process, several pipe buffers long (the old exit cut it at one or two).
    const store = new RunStore(db);
    const expected = `${JSON.stringify(runExportManifest(store, runId), null, 2)}\n`;
    store.close();
    expect(Buffer.byteLength(expected)).toBeGreaterThan(2 * 65_536);
    expect(Buffer.byteLength(r.stdout)).toBe(Buffer.byteLength(expected));
    expect(r.stdout).toBe(expected);
    const record = JSON.parse(r.stdout) as { run: { id: string }; rounds: { round: number; participants: string[] }[] };
    expect(record.run.id).toBe(runId);
    expect(record.rounds).toHaveLength(ROUNDS);
    expect(record.rounds.at(-1)).toMatchObject({ round: ROUNDS, participants: CLIENTS });
  });

});
