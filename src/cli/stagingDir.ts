import { accessSync, constants, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { FILE_STAGING_MIN_PARAMETERS } from '../coordinator/aggregation/streamingMean.js';
import { ConfigError } from './config/loadConfig.js';

/** statfs's f_type of a tmpfs: its files live in memory (and swap), not on a disk. */
const TMPFS_MAGIC = 0x01021994;

/** Committed updates the streaming mean keeps in files before folding them (StreamingMean's foldAfter default), plus the 2 in flight. */
const STAGED_UPDATES = 4 + 2;

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * Where a big model's updates wait during a round (StreamingMean's file staging, from 16M parameters), checked
 * before the run starts: a directory that cannot be written is refused naming coordinator.stagingDir, and the
 * line returned says how much the round may write there against what is free, and whether it is a tmpfs (memory,
 * not disk). Undefined for a model whose updates stage in memory.
 */
export function stagingDirReport(dir: string | undefined, uploadParameters: number): string | undefined {
  if (uploadParameters < FILE_STAGING_MIN_PARAMETERS) return undefined;
  const where = dir ?? tmpdir();
  try {
    if (!statSync(where).isDirectory()) throw new Error('not a directory');
    accessSync(where, constants.W_OK);
  } catch (e) {
    throw new ConfigError(`coordinator.stagingDir: updates of this ${uploadParameters}-parameter model stage in files in ${where}, which is not a writable directory (${(e as Error).message}): name one on a disk with room`);
  }
  const fs = statfsSync(where);
  const free = fs.bavail * fs.bsize;
  const needs = (STAGED_UPDATES * 4 + 8) * uploadParameters;
  const tmpfs = fs.type === TMPFS_MAGIC;
  return (
    `updates stage on disk in ${where}: up to ${gb(needs)} a round, ${gb(free)} free` +
    (free < needs ? ' (not enough: free space or set coordinator.stagingDir to a larger disk)' : '') +
    (tmpfs ? `; it is a tmpfs, held in memory, not on disk: set coordinator.stagingDir to a directory on disk` : '')
  );
}

/** Parameters of one update: the model's, twice for SCAFFOLD ([delta_y; delta_c]). */
export function uploadParameters(config: { readonly strategy: { readonly name: string } }, model: readonly { readonly data: { readonly length: number } }[]): number {
  const parameters = model.reduce((n, t) => n + t.data.length, 0);
  return config.strategy.name === 'scaffold' ? 2 * parameters : parameters;
}
