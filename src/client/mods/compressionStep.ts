import type { CompressionTask } from '../../protocol/compression.js';
import type { ErrorFeedback } from '../compression/errorFeedback.js';
import type { FitStep } from './fitChain.js';

/**
 * Update compression (`compression:` in the experiment), the outermost step: it compresses what the inner steps
 * release, local DP's noised update included, so it is post-processing and costs no privacy. The update it hands
 * on is the one the coordinator will decode; the compressed form rides beside it for plain mode to send. A
 * mode that protects updates conflicts: CKKS encrypts the plaintext and SecAgg+ quantizes and masks every value
 * itself, so neither can carry a compressed upload.
 */
export function compressionStep(feedback: ErrorFeedback, task: CompressionTask, runId: string): FitStep {
  return {
    name: `compression (${task.options.method})`,
    conflicts: ['secure aggregation ckks', 'secure aggregation secaggplus'],
    run: async (fit, next) => {
      const update = await next(fit);
      const round = feedback.compress(update.delta, runId, task);
      return {
        ...update,
        delta: round.decoded,
        compressed: round.compressed,
        sent: () => {
          update.sent?.();
          round.commit();
        },
      };
    },
  };
}
