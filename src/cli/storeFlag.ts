import { resolve } from 'node:path';

/** The `--store` flag a command needs to find `storePath` (none for ./cohort.db, the default), quoted when it has spaces. */
export function storeFlag(storePath: string): string {
  if (resolve(storePath) === resolve('cohort.db')) return '';
  return ` --store ${/\s/.test(storePath) ? JSON.stringify(storePath) : storePath}`;
}
