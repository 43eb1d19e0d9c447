import { dataSchemaSchema, type DataSchema } from '../../protocol/dataSchema.js';
import type { DatabaseSync } from 'node:sqlite';
import { decodeWeights, encodeWeights } from '../../protocol/tensorCodec.js';
import type { Weights } from '../../protocol/tensors.js';
import type { RoundRecord } from '../roundRecord.js';
import type { ClientSummary } from '../strategy.js';
import { weightsHash } from '../weightsHash.js';
import { MIGRATES_FROM, SCHEMA, STORE_VERSION } from './schema.js';
import { encryptedCheckpointHash, type EncryptedCheckpoint } from './encryptedCheckpoint.js';
import { decodeCiphertextFrames, encodeCiphertextFrames } from '../../crypto/ckks/frames.js';
import { openDatabase } from './openDatabase.js';

/** A stored run's state: still running (or interrupted), completed, or failed. */
export type RunStatus = 'running' | 'completed' | 'failed';

/** A run as the store lists it. */
export interface RunRow {
  /** The run's id. */
  readonly id: string;
  /** The experiment's name. */
  readonly name: string;
  /** Hash of the experiment's configuration (a resume must match it). */
  readonly configHash: string;
  /** Running (or interrupted), completed, or failed. */
  readonly status: RunStatus;
  /** Rounds the run was configured for. */
  readonly roundsPlanned: number;
  /** The last completed round (0 before the first). */
  readonly lastRound: number;
  /** When the run started, ISO 8601. */
  readonly createdAt: string;
  /** When the run last changed, ISO 8601. */
  readonly updatedAt: string;
  /** Why the run failed, if it did. */
  readonly error: string | null;
}

/** The global model after a round, with what a resume needs. */
export interface Checkpoint {
  /** The round it completed. */
  readonly round: number;
  /** The global model. */
  readonly weights: Weights;
  /** SHA-256 of the weights, checked when read. */
  readonly modelSha256: string;
  /** The strategy's state (momentum, moments) as JSON, if it keeps one. */
  readonly strategyState: unknown;
}

/** The store cannot be opened or read, or holds no such run; the message says which. */
export class StoreError extends Error {
  /** Always `StoreError`. */
  override readonly name = 'StoreError';
}

const now = () => new Date().toISOString();

/**
 * One SQLite file per coordinator (node:sqlite, WAL): runs, rounds, participants, client fingerprints,
 * model versions and checkpoints. Each completed round is written in one transaction with its checkpoint,
 * so after a crash the store holds exactly the rounds that completed.
 */
export class RunStore {
  private readonly db: DatabaseSync;

  /**
   * Opens (or creates) the store at `path`, migrating an older version; `:memory:` keeps it in memory.
   * @param path The SQLite file.
   */
  constructor(readonly path: string) {
    try {
      this.db = openDatabase(path);
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
      this.db.exec(SCHEMA);
    } catch (e) {
      throw new StoreError(`cannot open the run store ${path}: ${(e as Error).message}`);
    }
    const version = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('version') as { value: string } | undefined;
    if (!version) this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('version', String(STORE_VERSION));
    else if (MIGRATES_FROM.includes(Number(version.value))) {
      this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(String(STORE_VERSION), 'version');
    } else if (Number(version.value) !== STORE_VERSION) {
      throw new StoreError(`${path} is a version ${version.value} store; this Cohort reads version ${STORE_VERSION}`);
    }
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }

  /** Records a new run and its manifest, status `running`. */
  createRun(run: { id: string; name: string; configHash: string; manifest: unknown; roundsPlanned: number }): void {
    const t = now();
    this.db
      .prepare('INSERT INTO runs (id, name, config_hash, manifest, status, rounds_planned, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(run.id, run.name, run.configHash, JSON.stringify(run.manifest), 'running', run.roundsPlanned, t, t);
  }

  /** The newest run of this experiment that did not complete, if any: what a restart resumes. */
  unfinishedRun(name: string): RunRow | undefined {
    const row = this.db.prepare("SELECT * FROM runs WHERE name = ? AND status != 'completed' ORDER BY created_at DESC LIMIT 1").get(name);
    return row ? toRunRow(row) : undefined;
  }

  /** The run whose id is `id` or starts with it; throws when the prefix is ambiguous. */
  run(id: string): RunRow | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ? OR id LIKE ?').all(id, `${id}%`);
    if (row.length > 1) throw new StoreError(`run id prefix "${id}" is ambiguous: ${row.map((r) => String(r.id)).join(', ')}`);
    return row[0] ? toRunRow(row[0]) : undefined;
  }

  /** Every run, oldest first. */
  runs(): RunRow[] {
    return this.db.prepare('SELECT * FROM runs ORDER BY created_at').all().map(toRunRow);
  }

  /** The manifest stored with run `id`. */
  manifest(id: string): unknown {
    const row = this.db.prepare('SELECT manifest FROM runs WHERE id = ?').get(id) as { manifest: string } | undefined;
    if (!row) throw new StoreError(`no run ${id}`);
    return JSON.parse(row.manifest);
  }

  /** Marks run `id` running, completed or failed (with the error). */
  setStatus(id: string, status: RunStatus, error?: string): void {
    this.db.prepare('UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE id = ?').run(status, error ?? null, now(), id);
  }

  /** Keeps the federation-wide feature mean and std of run `id`, for a resume and for export. */
  saveStandardization(id: string, standardization: Weights): void {
    this.db.prepare('UPDATE runs SET standardization = ?, updated_at = ? WHERE id = ?').run(encodeWeights(standardization), now(), id);
  }

  /** The stored feature mean and std of run `id`, if any. */
  standardization(id: string): Weights | undefined {
    const row = this.db.prepare('SELECT standardization FROM runs WHERE id = ?').get(id) as { standardization: Uint8Array | null } | undefined;
    return row?.standardization ? decodeWeights(row.standardization) : undefined;
  }

  /**
   * The study's data schema for a run (pinned or taken from the first site): what `cohort export` ships so the
   * model predicts on raw rows. Kept in `meta` (one key per run), so stores of this version need no migration.
   */
  saveDataSchema(id: string, schema: DataSchema): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(`data-schema:${id}`, JSON.stringify(schema));
  }

  /** The study's data schema stored for run `id`, if any. */
  dataSchema(id: string): DataSchema | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(`data-schema:${id}`) as { value: string } | undefined;
    return row ? dataSchemaSchema.parse(JSON.parse(row.value)) : undefined;
  }

  /** Records a client's first appearance in run `id`: backend, row counts and schema fingerprint (never data). */
  recordClient(id: string, client: ClientSummary): void {
    this.db
      .prepare('INSERT OR IGNORE INTO clients (run_id, client, backend, train_rows, test_rows, schema_hash, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, client.name, client.backend, client.numTrainExamples, client.numTestExamples, client.datasetFingerprint ?? null, now());
  }

  /** The clients of run `id`, by name, with what they announced when first seen. */
  clients(id: string): { client: string; backend: string; trainRows: number; testRows: number; schemaHash: string | null; firstSeen: string }[] {
    return this.db
      .prepare('SELECT * FROM clients WHERE run_id = ? ORDER BY client')
      .all(id)
      .map((r) => ({
        client: String(r.client),
        backend: String(r.backend),
        trainRows: Number(r.train_rows),
        testRows: Number(r.test_rows),
        schemaHash: r.schema_hash === null ? null : String(r.schema_hash),
        firstSeen: String(r.first_seen),
      }));
  }

  /** Writes a completed round, its participants and the new global model's checkpoint, atomically. */
  completeRound(id: string, record: RoundRecord, model: Weights | EncryptedCheckpoint, strategyState: unknown): string {
    // Under CKKS the coordinator holds ciphertexts only: the checkpoint is the encrypted sum, never a model.
    const encrypted = 'ciphertexts' in model ? model : undefined;
    const sha = encrypted ? encrypted.sha256 : weightsHash(model as Weights);
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.db
        .prepare('INSERT INTO rounds (run_id, round, attempts, completed_at, duration_ms, record, model_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, record.round, record.attempts, now(), record.durationMs, JSON.stringify(record), sha);
      const participant = this.db.prepare(
        'INSERT INTO participants (run_id, round, client, phase, num_examples, loss, metrics, failure_reason, failure_detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const phases = [['fit', record.fit.outcomes], ['evaluate', record.evaluate?.outcomes ?? []]] as const;
      for (const [phase, outcomes] of phases) {
        for (const o of outcomes) {
          participant.run(id, record.round, o.client, phase, o.numExamples ?? null, o.loss ?? null, o.metrics ? JSON.stringify(o.metrics) : null, o.failure?.reason ?? null, o.failure?.detail ?? null);
        }
      }
      const state = strategyState === undefined ? null : JSON.stringify(strategyState);
      if (encrypted) {
        this.db
          .prepare('INSERT INTO encrypted_checkpoints (run_id, round, sha256, total_weight, layout, ciphertexts, strategy_state) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(id, record.round, sha, encrypted.totalWeight, JSON.stringify(encrypted.layout), encodeCiphertextFrames(encrypted.ciphertexts), state);
      } else {
        this.db.prepare('INSERT INTO checkpoints (run_id, round, model_sha256, weights, strategy_state) VALUES (?, ?, ?, ?, ?)').run(id, record.round, sha, encodeWeights(model as Weights), state);
      }
      this.db.prepare('UPDATE runs SET last_round = ?, updated_at = ? WHERE id = ?').run(record.round, now(), id);
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw new StoreError(`could not record round ${record.round} of run ${id}: ${(e as Error).message}`);
    }
    return sha;
  }

  /** The completed rounds of run `id`, in order, each with its record and when it completed (ISO 8601). */
  rounds(id: string): { round: number; attempts: number; completedAt: string; modelSha256: string; record: RoundRecord }[] {
    return this.db
      .prepare('SELECT round, attempts, completed_at, model_sha256, record FROM rounds WHERE run_id = ? ORDER BY round')
      .all(id)
      .map((r) => ({
        round: Number(r.round),
        attempts: Number(r.attempts),
        completedAt: String(r.completed_at),
        modelSha256: String(r.model_sha256),
        record: JSON.parse(String(r.record)) as RoundRecord,
      }));
  }

  /** The checkpoint after `round` (default: the latest), with its hash checked. */
  checkpoint(id: string, round?: number): Checkpoint | undefined {
    const row = (
      round === undefined
        ? this.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY round DESC LIMIT 1').get(id)
        : this.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? AND round = ?').get(id, round)
    ) as { round: number; model_sha256: string; weights: Uint8Array; strategy_state: string | null } | undefined;
    if (!row) return undefined;
    const weights = decodeWeights(row.weights);
    if (weightsHash(weights) !== row.model_sha256) throw new StoreError(`checkpoint of round ${row.round} of run ${id} does not match its SHA-256: the store is damaged`);
    return { round: Number(row.round), weights, modelSha256: row.model_sha256, strategyState: row.strategy_state === null ? undefined : JSON.parse(row.strategy_state) };
  }

  /** The latest encrypted checkpoint of a CKKS run, with its hash checked; undefined when there is none. */
  encryptedCheckpoint(id: string): (EncryptedCheckpoint & { readonly round: number; readonly strategyState: unknown }) | undefined {
    const row = this.db.prepare('SELECT * FROM encrypted_checkpoints WHERE run_id = ? ORDER BY round DESC LIMIT 1').get(id) as
      | { round: number; sha256: string; total_weight: number; layout: string; ciphertexts: Uint8Array; strategy_state: string | null }
      | undefined;
    if (!row) return undefined;
    const ciphertexts = decodeCiphertextFrames(row.ciphertexts);
    if (encryptedCheckpointHash(ciphertexts) !== row.sha256) throw new StoreError(`encrypted checkpoint of round ${row.round} of run ${id} does not match its SHA-256: the store is damaged`);
    return {
      round: Number(row.round),
      sha256: row.sha256,
      totalWeight: Number(row.total_weight),
      layout: JSON.parse(row.layout) as EncryptedCheckpoint['layout'],
      ciphertexts,
      strategyState: row.strategy_state === null ? undefined : JSON.parse(row.strategy_state),
    };
  }

  /** Records the epsilon (at `delta`) spent after `round`. */
  recordPrivacy(id: string, round: number, epsilon: number, delta: number): void {
    this.db.prepare('INSERT OR REPLACE INTO privacy (run_id, round, epsilon, delta) VALUES (?, ?, ?, ?)').run(id, round, epsilon, delta);
  }
}

function toRunRow(r: Record<string, unknown>): RunRow {
  return {
    id: String(r.id),
    name: String(r.name),
    configHash: String(r.config_hash),
    status: String(r.status) as RunStatus,
    roundsPlanned: Number(r.rounds_planned),
    lastRound: Number(r.last_round),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    error: r.error === null || r.error === undefined ? null : String(r.error),
  };
}
