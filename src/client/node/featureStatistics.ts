import { momentsWeights } from '../../protocol/featureMoments.js';
import type { Peer } from '../../protocol/peer.js';
import { encodeWeightsChunks, encodedByteLength } from '../../protocol/tensorCodec.js';
import type { Weights } from '../../protocol/tensors.js';
import type { FeatureScaler } from '../featureScaler.js';

/** Streams this node's feature moments (federated standardization's round 0), signed like any upload. */
export async function sendFeatureMoments(peer: Peer, scaler: FeatureScaler | undefined, taskId: string, chunkBytes: number, sign: (sha256: string, rows: number) => string): Promise<void> {
  if (!scaler) throw new Error('this client has no feature scaler, so it cannot take part in federated standardization');
  const m = scaler.moments();
  const stats = momentsWeights(m.mean, m.meanOfSquares);
  await peer.sendStream({ kind: 'statistics-result', taskId, numExamples: m.rows }, encodedByteLength(stats), encodeWeightsChunks(stats, chunkBytes), {
    sign: (sha256) => sign(sha256, m.rows),
  });
}

/** Applies the federation's standardization ("mean" and "std" tensors) to this node's features. */
export async function applyStandardization(scaler: FeatureScaler | undefined, weights: Weights): Promise<number> {
  const mean = weights.find((t) => t.name === 'mean');
  const std = weights.find((t) => t.name === 'std');
  if (!scaler) throw new Error('this client has no feature scaler, so it cannot apply federated standardization');
  if (!mean || !std || mean.data.length !== std.data.length) throw new Error('standardization must carry "mean" and "std" tensors of equal length');
  await scaler.standardize(mean.data, std.data);
  return mean.data.length;
}
