import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Staging an update to its temporary file failed (the disk is full, the directory is not writable...); the message says what to do. */
export class StagingFileError extends Error {
  /** Always `StagingFileError`. */
  override readonly name = 'StagingFileError';
}

function explain(e: unknown, doing: string, dir: string): StagingFileError {
  const code = (e as NodeJS.ErrnoException).code;
  const fix =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? `no space left in ${dir}: each update in flight needs 4 bytes a parameter there; free space, set StreamingMean's stagingDir to a larger disk, or use staging: 'memory'`
      : `set StreamingMean's stagingDir to a writable directory, or use staging: 'memory'`;
  return new StagingFileError(`${doing} in ${dir} failed (${code ?? (e as Error).message}): ${fix}`);
}

/**
 * One in-flight update's values in a temporary file, so that taking a failed update back out of an exact sum
 * costs disk (the page cache, not the process's resident memory) instead of a float32 copy of the model. The file
 * is unlinked as soon as it is opened: only the descriptor names it, so it disappears when closed and when the
 * process dies, however it dies, and nothing is left to clean up on restart. Created exclusively (`wx+`, mode
 * 0600, a random name), so no other user's file or link is ever written through.
 */
export class StagingFile {
  private fd: number | undefined;
  /** Set where the platform could not unlink the open file (Windows): close() removes it. */
  private pendingPath: string | undefined;

  constructor(private readonly dir: string = tmpdir()) {
    const path = join(dir, `cohort-staging-${randomUUID()}`);
    try {
      this.fd = openSync(path, 'wx+', 0o600);
    } catch (e) {
      throw explain(e, 'creating a staging file', dir);
    }
    try {
      unlinkSync(path);
    } catch {
      this.pendingPath = path;
    }
  }

  /** Writes `values` at float offset `offset`. */
  write(values: Float32Array, offset: number): void {
    this.writeBytes(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset * 4);
  }

  /** Reads the floats [offset, offset + into.length) into `into`. */
  read(into: Float32Array, offset: number): void {
    this.readBytes(new Uint8Array(into.buffer, into.byteOffset, into.byteLength), offset * 4);
  }

  /** Writes `bytes` at byte `position`. */
  writeBytes(bytes: Uint8Array, position: number): void {
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.open(), bytes, done, bytes.length - done, position + done);
    } catch (e) {
      throw explain(e, 'staging an update', this.dir);
    }
  }

  /** Fills `into` from byte `position`. */
  readBytes(into: Uint8Array, position: number): void {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.open(), into, done, into.length - done, position + done);
      if (n === 0) throw new StagingFileError(`the staging file in ${this.dir} ended early at byte ${position + done}: was it truncated by another process?`);
      done += n;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    if (this.pendingPath) unlinkSync(this.pendingPath);
  }

  private open(): number {
    if (this.fd === undefined) throw new StagingFileError('the staging file is already closed');
    return this.fd;
  }
}
