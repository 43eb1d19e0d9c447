import { createHash } from 'node:crypto';
import { encodeWeightsChunks, encodedByteLength } from '../protocol/tensorCodec.js';
import type { Weights } from '../protocol/tensors.js';
import type { EncodedWeights } from './clientSession.js';

export type { EncodedWeights };

/**
 * Encodes the global weights once per round (mostly views of the weights, not copies) and hashes them
 * once; every selected client is streamed the same chunks.
 */
export function encodeGlobal(weights: Weights, chunkBytes: number): EncodedWeights {
  const chunks = [...encodeWeightsChunks(weights, chunkBytes)];
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return { chunks, totalBytes: encodedByteLength(weights), sha256: hash.digest('hex') };
}
