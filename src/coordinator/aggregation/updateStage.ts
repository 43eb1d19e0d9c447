import { StagingFile } from './fileStaging.js';

/**
 * Where one in-flight update's values wait until it commits, so that an exact sum can take back an update that
 * fails later (a drop mid-upload, a bad run, a hash or signature mismatch, the round closing).
 */
export interface UpdateStage {
  /** The longest run place() takes at once. */
  readonly maxRun: number;
  /** Copies `values` (parameters from `offset`) to where the kernel checks and sums them; returns that view. */
  place(offset: number, values: Float32Array): Float32Array;
  /** Keeps a placed run for a take-back. Throws StagingFileError when the disk refuses it. */
  keep(placed: Float32Array, offset: number): void;
  /** Calls `use` on the staged values [0, end), run by run, in order (each view valid during its call). */
  replay(end: number, use: (values: Float32Array, offset: number) => void): void;
  /** The staged values [offset, offset + length), length at most maxRun: a view valid until the stage is next used. */
  readRun(offset: number, length: number): Float32Array;
  /** Frees what the stage holds (its file); the slot goes back to the aggregator. */
  release(): void;
}

/** A whole-model float32 slot: the update is staged where the kernel reads it. 4 bytes a parameter of memory. */
export function memoryStage(slot: Float32Array): UpdateStage {
  return {
    maxRun: Infinity,
    place: (offset, values) => {
      const placed = slot.subarray(offset, offset + values.length);
      placed.set(values);
      return placed;
    },
    keep: () => undefined,
    replay: (end, use) => {
      if (end > 0) use(slot.subarray(0, end), 0);
    },
    readRun: (offset, length) => slot.subarray(offset, offset + length),
    release: () => undefined,
  };
}

/**
 * A temporary file, with `scratch` (a run-sized slot in the kernel's memory, shared: every call is synchronous)
 * where each run is checked and summed. The values go to the page cache, not the process's resident memory; they
 * are read back only to take the update back.
 */
export function fileStage(scratch: Float32Array, dir: string | undefined): UpdateStage {
  const file = new StagingFile(dir);
  return {
    maxRun: scratch.length,
    place: (_offset, values) => {
      const placed = scratch.subarray(0, values.length);
      placed.set(values);
      return placed;
    },
    keep: (placed, offset) => file.write(placed, offset),
    replay: (end, use) => {
      for (let at = 0; at < end; at += scratch.length) {
        const run = scratch.subarray(0, Math.min(scratch.length, end - at));
        file.read(run, at);
        use(run, at);
      }
    },
    readRun: (offset, length) => {
      const run = scratch.subarray(0, length);
      file.read(run, offset);
      return run;
    },
    release: () => file.close(),
  };
}
