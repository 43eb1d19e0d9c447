import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveLayersModel } from '../../src/client/model/saveModel.js';
import { RunStore } from '../../src/coordinator/store/runStore.js';

const mode = (path: string) => statSync(path).mode & 0o777;

// The usual umask: without care, new files would be 0644 (readable by every user of the machine).
process.umask(0o022);

describe('files with per-site data are private to their owner', () => {
  it('creates the store, its WAL and its shared-memory file 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-modes-'));
    const path = join(dir, 'cohort.db');
    const store = new RunStore(path);
    store.createRun({ id: 'run-1', name: 'modes', configHash: 'x', manifest: {}, roundsPlanned: 1 });
    store.recordClient('run-1', { id: 'c1', name: 'st-mary', numTrainExamples: 120, numTestExamples: 30, backend: 'js' });
    // While the store is open SQLite keeps its write-ahead log and shared memory beside it.
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(existsSync(`${path}-shm`)).toBe(true);
    expect([mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    store.close();
  });

  it('writes an exported model 0600 in a 0700 folder, also over files that were world-readable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-modes-'));
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3] })] });
    const fresh = join(dir, 'fresh');
    await saveLayersModel(model, fresh, 'test');
    expect([mode(fresh), mode(join(fresh, 'model.json')), mode(join(fresh, 'weights.bin'))]).toEqual([0o700, 0o600, 0o600]);
    const old = join(dir, 'old');
    mkdirSync(old);
    writeFileSync(join(old, 'weights.bin'), 'stale', { mode: 0o644 });
    await saveLayersModel(model, old, 'test');
    expect(mode(join(old, 'weights.bin'))).toBe(0o600);
    model.dispose();
  });
});
