import { TASK_EXTRAS, numberExtra } from '../../protocol/taskExtras.js';
import { TensorStreamDecoder, WeightsCollector, encodeWeightsChunks, encodedByteLength } from '../../protocol/tensorCodec.js';
import { encodeCompressed } from '../../protocol/compressedFormat.js';
import { packChunks } from '../../protocol/chunking.js';
import { clipStep } from '../../client/mods/clipStep.js';
import { scaffoldSpec } from '../../protocol/scaffoldWire.js';
import type { ClientMode } from '../clientMode.js';

/** Plain mode's client half: the global arrives as tensors, and the update leaves as tensors (the coordinator reads it). */
export function plainClientMode(chunkBytes: number): ClientMode {
  return {
    name: 'plain',
    messages: [],
    handle: () => undefined,
    readsDownload: (header) => header.encrypted === undefined,
    openDownload: (_header, spec) => {
      const collector = new WeightsCollector(spec);
      const decoder = new TensorStreamDecoder(collector);
      return {
        write: (chunk) => decoder.push(chunk),
        end: () => {
          decoder.end();
          const weights = collector.weights();
          return async () => ({ weights });
        },
      };
    },
    // The largest plaintext layout: SCAFFOLD's [x; c], twice the model (the model alone, or the standardization's
    // mean and std of the input features, are smaller).
    maxDownloadBytes: (spec) => encodedByteLength(scaffoldSpec(spec)),
    takesFit: () => true,
    protectsUpdates: false,
    // Central DP in plaintext: the task names the round's C, and the update is clipped to it before it leaves.
    steps: (config) => {
      const clipNorm = numberExtra(config.extra, TASK_EXTRAS.clipNorm);
      return clipNorm === undefined ? [] : [clipStep(clipNorm)];
    },
    // A compressed update (the task asked for it) leaves in its compressed layout; the header names it.
    protect: async ({ compressed, delta, metrics }) => {
      if (!compressed) return { totalBytes: encodedByteLength(delta), chunks: encodeWeightsChunks(delta, chunkBytes), header: {}, metrics };
      const segments = encodeCompressed(compressed);
      return { totalBytes: segments[0].length + segments[1].length, chunks: packChunks(segments, chunkBytes), header: { compression: compressed.method }, metrics };
    },
    dispose: () => undefined,
  };
}
