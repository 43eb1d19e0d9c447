import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DatabaseSync } from 'node:sqlite';

// node:sqlite is loaded when a store is opened, never when the package is imported: a static import would make
// every `import 'cohort-fl'` fail on a Node without the module (before any version check could explain why), and
// on Node 22 loading it prints an ExperimentalWarning to users who never open a store. `require` is synchronous,
// so RunStore keeps its synchronous constructor.
const require = createRequire(import.meta.url);

/**
 * Opens (or creates) the SQLite file at `path`; `:memory:` gives a database that lives as long as the handle.
 * A new file is created 0600 first: it holds per-site figures and checkpoints, and SQLite gives its WAL and
 * shared-memory files the database file's mode.
 */
export function openDatabase(path: string): DatabaseSync {
  const sqlite = require('node:sqlite') as typeof import('node:sqlite');
  if (path !== ':memory:' && !path.startsWith('file:')) createPrivately(path);
  return new sqlite.DatabaseSync(path);
}

/** Creates an empty file with mode 0600 unless one exists (O_EXCL: never follows a link planted there). */
function createPrivately(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}
