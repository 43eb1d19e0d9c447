import { decompress, type CompressedUpdate } from '../../protocol/compressedFormat.js';
import { topKCount, type CompressionTask } from '../../protocol/compression.js';
import { createSeededRng } from '../../protocol/seededRng.js';
import { specOf, type Weights } from '../../protocol/tensors.js';
import { quantizeInt8 } from './quantizeInt8.js';
import { topK } from './topK.js';

/** One round's compression: the upload, what the coordinator will read from it, and the residual it leaves. */
export interface CompressedRound {
  readonly compressed: CompressedUpdate;
  /** The update as the coordinator decodes it (what leaves this site, in effect). */
  readonly decoded: Weights;
  /** Keeps this round's residual for the next: called once the upload was sent. */
  commit(): void;
}

/**
 * Error feedback (Seide et al. 2014; Karimireddy et al. 2019, "EF-SGD"): what compression drops this round is
 * added to the next round's update, so it is delayed, not lost: p = delta + e, upload C(p), e <- p - C(p). The
 * residual e belongs to one run and lives in this node's memory (as SCAFFOLD's c_i does): a restarted node
 * starts again from zero, which is where a new member starts anyway.
 */
export class ErrorFeedback {
  private held: { readonly runId: string; readonly residual: Float32Array } | undefined;

  compress(delta: Weights, runId: string, task: CompressionTask): CompressedRound {
    const spec = specOf(delta);
    const total = delta.reduce((n, t) => n + t.data.length, 0);
    const residual = this.held?.runId === runId ? this.held.residual : undefined;
    if (residual && residual.length !== total) throw new Error(`this client's compression residual holds ${residual.length} values but the update has ${total}: the upload's layout changed within the run`);
    const corrected = new Float32Array(total);
    let at = 0;
    for (const t of delta) {
      corrected.set(t.data, at);
      at += t.data.length;
    }
    if (residual) for (let i = 0; i < total; i++) corrected[i] = corrected[i]! + residual[i]!;
    const { options } = task;
    const compressed =
      options.method === 'int8' ? { ...quantizeInt8(corrected, spec, createSeededRng(task.seed)), ...(options.deflate ? { deflate: true } : {}) } : topK(corrected, spec, topKCount(options.fraction, total));
    const flat = decompress(compressed);
    const next = new Float32Array(total);
    for (let i = 0; i < total; i++) next[i] = corrected[i]! - flat[i]!;
    return { compressed, decoded: unflatten(flat, delta), commit: () => (this.held = { runId, residual: next }) };
  }

  /** The residual held for `runId` (zeros before the first compressed upload of the run). */
  residual(runId: string): Float32Array | undefined {
    return this.held?.runId === runId ? this.held.residual : undefined;
  }
}

function unflatten(flat: Float32Array, like: Weights): Weights {
  let at = 0;
  return like.map((t) => {
    const data = flat.subarray(at, at + t.data.length);
    at += t.data.length;
    return { name: t.name, shape: t.shape, data };
  });
}
