/** StreamingMean's memory and kernel. */
export interface StreamingMeanOptions {
  /**
   * Updates in flight at once (2 by default). Each holds what arrived of an update, staged (see `staging`): the
   * fixed-point sum adds each checked run at once and subtracts the staged copy back, exactly, if the update fails
   * later; the double-double sum adds the whole update at commit. Either way a client that drops mid-upload or
   * sends bad values leaves no trace. Memory: the sum (8 bytes/param fixed point, 16 double-double) + 4 x slots
   * bytes/param staged in memory, or with file staging 1 MiB and, summed at the close, a mean (4 bytes/param) in
   * place of the sum; whatever the client count.
   */
  readonly slots?: number;
  /** The hot loops: WebAssembly SIMD where the model fits its memory (the default), or plain JavaScript. */
  readonly kernel?: 'wasm-simd' | 'js';
  /**
   * `fixed-point` (the default): an int64 sum of weighted values rounded to a 2^-fractionBits grid, exact and
   * order-independent, with a range (fixedPointKernel.ts). `double-double`: a float64 sum with its compensation,
   * twice the memory, for values of any magnitude (raw feature moments).
   */
  readonly accumulator?: 'fixed-point' | 'double-double';
  /** The fixed-point grid, 2^-fractionBits (32 by default: weighted values up to 2^30 and sums up to 2^31 in magnitude). */
  readonly fractionBits?: number;
  /**
   * Where an in-flight update waits for its commit. `memory`: a float32 slot per update in flight (4 bytes a
   * parameter each). `file`: an unlinked temporary file per update, written as the runs arrive; it costs the page
   * cache and the disk, not the process's memory, plus one 1 MiB run buffer. With `sumAt: 'close'` (the default)
   * the files are what the sum is made from; with `arrival` they are read back only to take a failed update out of
   * the sum, and the mean is written over the sum itself. No float64 `sum` is returned, unless a wrapper binds this
   * with `needs: { sum: true }`, as DpMean does: then the sum is made on arrival and the mean gets an array of its
   * own. Needs the fixed-point accumulator. Default: `file` for models of FILE_STAGING_MIN_PARAMETERS or more
   * (there the slots would cost as much as the sum), else `memory` (no system calls per run).
   */
  readonly staging?: 'memory' | 'file';
  /** The directory of `file` staging's temporary files (the OS temp dir by default). */
  readonly stagingDir?: string;
  /**
   * When a file-staged update enters the sum. `close` (the default): a committed update stays in its file; every
   * `foldAfter` commits, and when the round closes, the files are read a block at a time (1 MiB of floats) and
   * added into a block-sized int64 sum, which goes to a partial-sum file (8 bytes a parameter) or, at the close,
   * becomes that block of the mean. No model-sized sum is resident: the coordinator holds the global and the mean,
   * about 2x the model. `arrival`: each run is added as it arrives into a resident sum of 8 bytes a parameter,
   * while its file keeps a copy for a take-back (3x). The same integers are added either way, so the mean is
   * bit-identical. Applies where updates stage in files (`staging: 'file'`, or a model of
   * FILE_STAGING_MIN_PARAMETERS or more) and no wrapper reads the float64 sum (DpMean does): elsewhere the sum
   * is made on arrival.
   */
  readonly sumAt?: 'arrival' | 'close';
  /**
   * With `sumAt: 'close'`, committed updates kept in files before they are folded into the round's partial sum (4
   * by default): the disk holds at most (foldAfter + slots) x 4 + 8 bytes a parameter. A fold reads them and the
   * partial sum and writes the partial sum back, synchronously, on the commit that fills the batch.
   */
  readonly foldAfter?: number;
}
