import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { beforeAll, describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { runExport } from '../../src/cli/exportModel.js';
import { foldStandardization } from '../../src/cli/modelPackage/foldStandardization.js';
import { runExportManifest, runRuns, runShow } from '../../src/cli/inspectRuns.js';
import { simulate } from '../../src/cli/simulate.js';
import { encryptedCheckpointHash } from '../../src/coordinator/store/encryptedCheckpoint.js';
import { RunStore, StoreError } from '../../src/coordinator/store/runStore.js';
import { weightsHash } from '../../src/coordinator/weightsHash.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-store-'));
const db = join(dir, 'runs.db');
const printed: string[] = [];
let runId = '';
let finalHash = '';

beforeAll(async () => {
  const config = experimentConfigSchema.parse({
    name: 'stored',
    seed: 4,
    rounds: 3,
    backend: 'cpu',
    logLevel: 'silent',
    model: { type: 'mlp', hidden: [6], outputs: 1 },
    strategy: { minFitClients: 3 },
    dataDefaults: { label: 'target' },
    clients: ['north', 'central', 'south'].map((name) => ({ name, data: { path: `data/hospitals/${name}.csv` } })),
    centralBaseline: false,
    store: { path: db },
  });
  const result = await simulate(config, { baseDir: 'examples/breast-cancer', print: (line) => void printed.push(line) });
  runId = result.run.runId;
  finalHash = weightsHash(result.run.weights);
});

describe('the run store', () => {
  it('tells the user how to see the stored run again (cohort show and cohort dashboard, with this store)', () => {
    const hint = printed.find((line) => line.includes('cohort dashboard'));
    expect(hint).toBe(`this run's rounds are in the store: \`npx cohort show ${runId.slice(0, 8)} --store ${db}\`, its dashboard: \`npx cohort dashboard ${runId.slice(0, 8)} --store ${db}\``);
  });


  it('records the run, its rounds, participants, fingerprints, model versions and manifest', () => {
    const store = new RunStore(db);
    expect(store.run(runId)).toMatchObject({ name: 'stored', status: 'completed', lastRound: 3, roundsPlanned: 3 });
    const rounds = store.rounds(runId);
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(rounds[2]!.modelSha256).toBe(finalHash);
    expect(new Set(rounds.map((r) => r.modelSha256)).size).toBe(3);
    const clients = store.clients(runId);
    expect(clients.map((c) => c.client)).toEqual(['central', 'north', 'south']);
    expect(new Set(clients.map((c) => c.schemaHash)).size).toBe(1);
    expect(clients[0]!.schemaHash).toMatch(/^[0-9a-f]{64}$/);
    const full = runExportManifest(store, runId.slice(0, 8)) as { manifest: { gitCommit: string; packages: Record<string, string>; config: { model: { inputs: number } }; seeds: { experiment: number } }; rounds: { participants: string[] }[] };
    expect(full.manifest.seeds.experiment).toBe(4);
    expect(full.manifest.config.model.inputs).toBe(30);
    expect(full.manifest.packages['@tensorflow/tfjs']).toMatch(/^\d+\.\d+\.\d+/);
    expect(full.manifest.gitCommit).toMatch(/^([0-9a-f]{40}|unknown)/);
    expect(full.rounds[0]!.participants.sort()).toEqual(['central', 'north', 'south']);
    store.close();
  });

  it('lists and shows runs', () => {
    const lines: string[] = [];
    runRuns(db, (l) => lines.push(l));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^${runId}  stored  completed  rounds 3/3  started `))]);
    const shown: string[] = [];
    runShow(db, runId, false, (l) => shown.push(l));
    expect(shown[0]).toMatch(/^run .* "stored": completed, rounds 3\/3/);
    expect(shown.filter((l) => /^ {2}round \d: 3 clients, loss \d\.\d{4}, accuracy \d\.\d{4}, model [0-9a-f]{12}$/.test(l))).toHaveLength(3);
  });

  it('shows a manifest made outside a git checkout without cutting its commit short', () => {
    const path = join(dir, 'nogit.db');
    const store = new RunStore(path);
    store.createRun({ id: 'run-nogit', name: 'nogit', configHash: 'c'.repeat(64), manifest: { cohortVersion: '0.1.0', gitCommit: 'unknown (not a git checkout)', configHash: 'c'.repeat(64) }, roundsPlanned: 1 });
    store.close();
    const shown: string[] = [];
    runShow(path, 'run-nogit', false, (l) => shown.push(l));
    expect(shown[0]).toBe('run run-nogit "nogit": running, rounds 0/1; cohort 0.1.0, commit unknown (not a git checkout), config cccccccccccc');
  });

  it('detects a damaged checkpoint', () => {
    const copy = join(dir, 'damaged.db');
    copyFileSync(db, copy);
    // Flip one weight byte inside the stored blob, as disk damage or a hand edit would.
    const raw = new DatabaseSync(copy);
    const row = raw.prepare('SELECT weights FROM checkpoints WHERE run_id = ? AND round = 2').get(runId) as { weights: Uint8Array };
    const bytes = Uint8Array.from(row.weights);
    bytes[bytes.length - 3]! ^= 0x40;
    raw.prepare('UPDATE checkpoints SET weights = ? WHERE run_id = ? AND round = 2').run(bytes, runId);
    raw.close();
    const store = new RunStore(copy);
    expect(() => store.checkpoint(runId, 2)).toThrow(StoreError);
    expect(() => store.checkpoint(runId, 2)).toThrow(/does not match its SHA-256/);
    store.close();
  });
});

describe('store versions and encrypted checkpoints', () => {
  it('migrates a version 1 store (no encrypted checkpoints) and refuses a newer one', () => {
    const path = join(dir, 'v1.db');
    const raw = new DatabaseSync(path);
    raw.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('version', '1');");
    raw.close();
    new RunStore(path).close();
    const check = new DatabaseSync(path);
    expect(check.prepare("SELECT value FROM meta WHERE key = 'version'").get()).toEqual({ value: '2' });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'encrypted_checkpoints'").get()).toBeDefined();
    check.prepare("UPDATE meta SET value = '3' WHERE key = 'version'").run();
    check.close();
    expect(() => new RunStore(path)).toThrow(/is a version 3 store; this Cohort reads version 2/);
  });

  it('keeps a CKKS run\'s encrypted sum, and detects damage to it', async () => {
    const path = join(dir, 'encrypted.db');
    const store = new RunStore(path);
    store.createRun({ id: 'r1', name: 'enc', configHash: '', manifest: {}, roundsPlanned: 2 });
    const ciphertexts = [Uint8Array.from([1, 2, 3]), Uint8Array.from([4, 5])];
    const layout = { parameters: 3, momentum: true, logClipNorm: false };
    const record = { round: 1, attempts: 1, durationMs: 1, fit: { selected: 1, outcomes: [], metrics: {}, durationMs: 1 } };
    store.completeRound('r1', record, { ciphertexts, totalWeight: 0.75, layout, sha256: encryptedCheckpointHash(ciphertexts) }, { strategy: null });
    expect(store.checkpoint('r1')).toBeUndefined(); // no plaintext model is ever stored for it
    expect(store.encryptedCheckpoint('r1')).toMatchObject({ round: 1, totalWeight: 0.75, layout, ciphertexts, strategyState: { strategy: null } });
    store.close();
    // Nothing to export at the coordinator: the message sends the researcher to the clients' copies.
    await expect(runExport({ store: path, run: 'r1', out: join(dir, 'enc-export') }, () => undefined)).rejects.toThrow(/run r1 ran under CKKS: the coordinator never held its model in the clear; each client wrote the final model itself/);
    const raw = new DatabaseSync(path);
    const row = raw.prepare('SELECT ciphertexts FROM encrypted_checkpoints').get() as { ciphertexts: Uint8Array };
    const bytes = Uint8Array.from(row.ciphertexts);
    bytes[bytes.length - 1]! ^= 1;
    raw.prepare('UPDATE encrypted_checkpoints SET ciphertexts = ?').run(bytes);
    raw.close();
    const damaged = new RunStore(path);
    expect(() => damaged.encryptedCheckpoint('r1')).toThrow(/encrypted checkpoint of round 1 of run r1 does not match its SHA-256/);
    damaged.close();
  });
});

describe('cohort export', () => {
  it('writes the model in tfjs format that tf.loadLayersModel reads back with the stored weights', async () => {
    const out = join(dir, 'export');
    const lines: string[] = [];
    await runExport({ store: db, run: runId, round: 2, out }, (l) => lines.push(l));
    expect(lines[0]).toMatch(/round 2, model sha256 [0-9a-f]{64}/);
    const server = createServer((req, res) => {
      const file = join(out, (req.url ?? '/').slice(1));
      res.writeHead(200).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const model = await tf.loadLayersModel(`http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`);
      const store = new RunStore(db);
      const checkpoint = store.checkpoint(runId, 2)!;
      store.close();
      const standardization = new RunStore(db).standardization(runId)!;
      const loaded = model.getWeights().map((t) => Array.from(t.dataSync()));
      // The federation's standardization is folded into the first layer; the other layers are the stored ones.
      expect(loaded).toEqual(foldStandardization(checkpoint.weights, standardization[0]!.data, standardization[1]!.data).map((w) => Array.from(w.data)));
      expect(loaded[0]).not.toEqual(Array.from(checkpoint.weights[0]!.data));
      expect(loaded.slice(2)).toEqual(checkpoint.weights.slice(2).map((w) => Array.from(w.data)));
      const prediction = model.predict(tf.zeros([1, 30])) as tf.Tensor;
      expect(prediction.shape).toEqual([1, 1]);
    } finally {
      server.close();
    }
    await expect(runExport({ store: db, run: runId, round: 9, out }, () => undefined)).rejects.toThrow(/has no checkpoint for round 9 \(last completed: 3\)/);
    await expect(runExport({ store: db, run: 'nope', out }, () => undefined)).rejects.toThrow(/no run "nope"/);
  });
});
