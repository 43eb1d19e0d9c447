import { StagingFile } from './fileStaging.js';
import { SumRangeError, type SumKernel } from './sumKernel.js';
import type { UpdateStage } from './updateStage.js';

/** A committed update waiting in its file, and the weight it is summed at. */
interface Committed {
  readonly stage: UpdateStage;
  readonly weight: number;
}

/**
 * StreamingMean's `sumAt: 'close'`: a round's sum made from files instead of a model-sized accumulator.
 * Committed updates wait in their staging files; every `foldAfter` of them are added into a partial sum kept in
 * a file of its own (int64, 8 bytes a parameter), and at the close the partial sum and the updates left become
 * the mean. Each pass runs a block at a time through a block-sized exact kernel, whose one slot is also the run
 * buffer: resident memory is one block, plus the mean. The kernel adds the integers an on-arrival sum adds, so
 * the mean is bit-identical to one.
 */
export class DeferredSum {
  private waiting: Committed[] = [];
  private partial: StagingFile | undefined;
  /** Reused every round: valid until the next round closes. */
  private meanOut: Float32Array | undefined;

  constructor(
    private readonly kernel: SumKernel,
    private readonly size: number,
    private readonly foldAfter: number,
    private readonly stagingDir: string | undefined,
  ) {}

  /** Takes a committed update's file (it frees it); folds when foldAfter wait. Returns why the sum broke, if a fold failed. */
  add(stage: UpdateStage, weight: number): string | undefined {
    this.waiting.push({ stage, weight });
    return this.waiting.length >= this.foldAfter ? this.fold() : undefined;
  }

  /** float32(sum / totalWeight) of everything added since clear(). Throws SumRangeError or StagingFileError. */
  mean(totalWeight: number): Float32Array {
    const mean = (this.meanOut ??= new Float32Array(this.size));
    this.eachBlock(this.partial, (at, n) => mean.set(this.kernel.finishInPlace!(totalWeight).subarray(0, n), at));
    return mean;
  }

  /** Frees every file: the round closed, or was abandoned. */
  clear(): void {
    for (const { stage } of this.waiting) stage.release();
    this.waiting = [];
    this.partial?.close();
    this.partial = undefined;
  }

  /** Adds the waiting updates into the partial-sum file and frees theirs. */
  private fold(): string | undefined {
    const previous = this.partial;
    let into: StagingFile | undefined;
    try {
      into = previous ?? new StagingFile(this.stagingDir);
      const file = into;
      this.eachBlock(previous, (at, n) => {
        this.kernel.checkRange!();
        file.writeBytes(this.kernel.sumBytes!().subarray(0, n * 8), at * 8);
      });
      this.partial = into;
      return undefined;
    } catch (e) {
      if (into !== previous) into?.close();
      return e instanceof SumRangeError ? e.message : `the committed updates could not be folded into the round's partial sum (${(e as Error).message})`;
    } finally {
      for (const { stage } of this.waiting) stage.release();
      this.waiting = [];
    }
  }

  /**
   * A block at a time: the kernel's sum is loaded from `partial` (when there is one), each waiting update's block
   * is read from its file into the kernel's slot and added at its weight, then `use` takes the block's sum.
   */
  private eachBlock(partial: StagingFile | undefined, use: (at: number, n: number) => void): void {
    const kernel = this.kernel;
    const block = kernel.slots[0]!.length;
    try {
      for (let at = 0; at < this.size; at += block) {
        const n = Math.min(block, this.size - at);
        kernel.reset();
        if (partial) {
          partial.readBytes(kernel.sumBytes!().subarray(0, n * 8), at * 8);
          kernel.forgetBounds!();
        }
        for (const { stage, weight } of this.waiting) kernel.addAt!(stage.readRun(at, n), 0, weight);
        use(at, n);
      }
    } finally {
      kernel.reset();
    }
  }
}
