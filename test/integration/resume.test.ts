import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../src/coordinator/store/runStore.js';
import { freePort, repoRoot, startCli } from '../helpers/cli.js';

describe('a coordinator killed with SIGKILL mid-round', () => {
  // Under CKKS the checkpoint is the encrypted sum; the clients, still holding the run's key, decrypt it.
  it.each(['plain', 'ckks'] as const)('resumes the same run from its last completed round when started again with the same command (%s)', async (mode) => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-resume-'));
    const port = await freePort();
    const db = join(dir, 'runs.db');
    const coordinatorYaml = join(dir, 'coordinator.yaml');
    writeFileSync(
      coordinatorYaml,
      `name: resume-test\nseed: 5\nrounds: 4\nmodel: { type: mlp, hidden: [8], outputs: 1, inputs: 30 }\n` +
        `training: { epochs: 15, batchSize: 16, learningRate: 0.01 }\nstrategy: { minFitClients: 2 }\n` +
        `coordinator: { port: ${port}, roundTimeoutSeconds: 60 }\naccess: { mode: open }\nstore: { path: ${db} }\nsecureAggregation: ${mode}\n`,
    );
    const clients = ['north', 'central'].map((h) => {
      const yaml = join(dir, `${h}.yaml`);
      writeFileSync(yaml, `name: ${h}\ncoordinator: http://127.0.0.1:${port}\nmodel: { type: mlp, hidden: [8], outputs: 1 }\ndata: { path: ${join(repoRoot, `examples/breast-cancer/data/hospitals/${h}.csv`)}, label: target }\n`);
      return startCli(['client', '--config', yaml]);
    });

    const first = startCli(['coordinator', '--config', coordinatorYaml]);
    await first.waitFor(/^round 2\/4 .*$/m);
    first.child.kill('SIGKILL'); // round 3 is under way: its tasks went out as round 2 completed
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');

    const before = new RunStore(db);
    const [run] = before.runs();
    expect(run).toMatchObject({ name: 'resume-test', status: 'running', roundsPlanned: 4 });
    const completedBefore = before.rounds(run!.id);
    expect(completedBefore.map((r) => r.round)).toEqual(Array.from({ length: run!.lastRound }, (_, i) => i + 1));
    expect(run!.lastRound).toBeGreaterThanOrEqual(2);
    before.close();

    const second = startCli(['coordinator', '--config', coordinatorYaml]);
    const resumed = await second.exited;
    expect(resumed.stderr).not.toMatch(/error/);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`resuming run ${run!.id} after round ${run!.lastRound} of 4`);
    // Only the rounds after the last completed one run again; none is repeated.
    const rerun = [...resumed.stdout.matchAll(/^round (\d)\/4 {2}clients 2\/2/gm)].map((m) => Number(m[1]));
    expect(rerun).toEqual(Array.from({ length: 4 - run!.lastRound }, (_, i) => run!.lastRound + 1 + i));
    for (const c of clients) {
      const r = await c.exited;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/disconnected \(transport close\); reconnecting in [\d.]+ s/);
      expect(r.stdout).toContain(`run ended: run ${run!.id} completed 4 rounds`);
    }

    const after = new RunStore(db);
    expect(after.runs()).toHaveLength(1);
    expect(after.run(run!.id)).toMatchObject({ status: 'completed', lastRound: 4 });
    const rounds = after.rounds(run!.id);
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3, 4]);
    // Completed rounds were neither lost nor rewritten.
    for (const r of completedBefore) expect(rounds[r.round - 1]!.modelSha256).toBe(r.modelSha256);
    if (mode === 'plain') expect(after.checkpoint(run!.id, 4)?.modelSha256).toBe(rounds[3]!.modelSha256);
    else {
      // The coordinator's store holds ciphertexts, never a model.
      expect(after.checkpoint(run!.id)).toBeUndefined();
      expect(after.encryptedCheckpoint(run!.id)).toMatchObject({ round: 4, sha256: rounds[3]!.modelSha256 });
    }
    expect(after.clients(run!.id).map((c) => c.client)).toEqual(['central', 'north']);
    after.close();
  });
});
