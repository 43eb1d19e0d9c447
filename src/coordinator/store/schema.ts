/**
 * The store's tables. Bump STORE_VERSION and add a migration when this changes. Version 2 added
 * encrypted_checkpoints; a version 1 store migrates by creating it (SCHEMA does), nothing else changed.
 */
export const STORE_VERSION = 2;
export const MIGRATES_FROM: readonly number[] = [1];

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  manifest TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  rounds_planned INTEGER NOT NULL,
  last_round INTEGER NOT NULL DEFAULT 0,
  standardization BLOB,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  error TEXT
);
CREATE TABLE IF NOT EXISTS rounds (
  run_id TEXT NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  completed_at TEXT NOT NULL,
  duration_ms REAL NOT NULL,
  record TEXT NOT NULL,
  model_sha256 TEXT NOT NULL,
  PRIMARY KEY (run_id, round)
);
CREATE TABLE IF NOT EXISTS participants (
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  client TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN ('fit', 'evaluate')),
  num_examples INTEGER,
  loss REAL,
  metrics TEXT,
  failure_reason TEXT,
  failure_detail TEXT,
  PRIMARY KEY (run_id, round, client, phase)
);
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  model_sha256 TEXT NOT NULL,
  weights BLOB NOT NULL,
  strategy_state TEXT,
  PRIMARY KEY (run_id, round)
);
CREATE TABLE IF NOT EXISTS encrypted_checkpoints (
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  total_weight REAL NOT NULL,
  layout TEXT NOT NULL,
  ciphertexts BLOB NOT NULL,
  strategy_state TEXT,
  PRIMARY KEY (run_id, round)
);
CREATE TABLE IF NOT EXISTS clients (
  run_id TEXT NOT NULL,
  client TEXT NOT NULL,
  backend TEXT,
  train_rows INTEGER,
  test_rows INTEGER,
  schema_hash TEXT,
  first_seen TEXT NOT NULL,
  PRIMARY KEY (run_id, client)
);
CREATE TABLE IF NOT EXISTS privacy (
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  epsilon REAL NOT NULL,
  delta REAL NOT NULL,
  PRIMARY KEY (run_id, round)
);
`;
