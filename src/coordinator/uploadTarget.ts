import type { StreamMetaOf } from '../protocol/messages.js';
import { CompressedStreamDecoder } from '../protocol/compressedStreamDecoder.js';
import { topKCount, type CompressionOptions } from '../protocol/compression.js';
import { TensorStreamDecoder, type TensorStreamHandlers } from '../protocol/tensorCodec.js';
import { specMismatch, totalParameters, type TensorSpec } from '../protocol/tensors.js';
import type { AggregationRound } from './aggregation/aggregator.js';
import type { ClientSummary } from './strategy.js';

/** The header of an upload: a fit update or feature moments. */
export type UploadMeta = StreamMetaOf<'fit-result'> | StreamMetaOf<'statistics-result'>;

/** One client's upload on its way into the round's sum. */
export interface UploadSink {
  write(chunk: Uint8Array): void;
  /** All bytes arrived and the signature checked: throws if they do not form a whole update. */
  end(): void;
  /** Makes the update count. */
  commit(): void;
  /** Drops it without trace. */
  abort(reason: string): void;
}

/**
 * Where a task's upload goes: what a secure-aggregation mode gives the session for its fit tasks (a
 * plaintext aggregation round, a ciphertext sum). The session does the checks every mode shares (one upload a
 * task, the example count claimed, the signature, the audit trail); the target those of its own format.
 */
export interface UploadTarget {
  /** Shown in the audit log beside the upload kind, e.g. "ckks". */
  readonly label?: string;
  /** Opens the sink for an upload, throwing (the refusal) when its header is not this target's format. */
  open(meta: UploadMeta, client: ClientSummary): Promise<UploadSink>;
}

/**
 * Plaintext tensors streamed into an aggregation round: decoded as they arrive, checked against `spec`, and
 * written into an aggregation slot (the wait for a free slot is the back-pressure that bounds memory). With
 * `compression`, uploads must come in the run's compressed layout, decoded (and bounds-checked) into the same
 * dense runs, so the aggregators downstream neither know nor care.
 */
export function tensorUploadTarget(aggregation: AggregationRound, spec: readonly TensorSpec[], what: string, compression?: CompressionOptions): UploadTarget {
  return {
    open: async (meta, client) => {
      if (meta.kind === 'fit-result' && (meta.encrypted || meta.masked)) throw new Error('this round does not take encrypted or masked updates');
      const sent = meta.kind === 'fit-result' ? meta.compression : undefined;
      if (sent !== compression?.method) {
        throw new Error(`${what} is ${sent ? `${sent}-compressed` : 'not compressed'}, but this run's uploads are ${compression ? `${compression.method}-compressed (compression: ${compression.method})` : 'uncompressed float32 (no compression is configured)'}`);
      }
      const upload = await aggregation.accept(client.id, meta.numExamples);
      const handlers: TensorStreamHandlers = {
        onSpec: (received) => {
          const mismatch = specMismatch(spec, received);
          if (mismatch) throw new Error(`${what} does not match: ${mismatch}`);
        },
        onValues: (offset, values) => upload.write(offset, values),
      };
      const decoder = compression
        ? new CompressedStreamDecoder(compression.method, handlers, compression.method === 'topk' ? topKCount(compression.fraction, totalParameters(spec)) : undefined, compression.method === 'int8' && compression.deflate === true)
        : new TensorStreamDecoder(handlers);
      return {
        write: (chunk) => decoder.push(chunk),
        end: () => decoder.end(),
        commit: () => upload.commit(),
        abort: (reason) => upload.abort(reason),
      };
    },
  };
}
