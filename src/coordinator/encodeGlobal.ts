import { encodeWeightsChunks, encodedByteLength } from '../protocol/tensorCodec.js';
import type { Weights } from '../protocol/tensors.js';
import type { EncodedWeights } from './clientSession.js';

export type { EncodedWeights };

/** Encodes the global weights once per round; every selected client is streamed the same chunks. */
export function encodeGlobal(weights: Weights, chunkBytes: number): EncodedWeights {
  return { chunks: [...encodeWeightsChunks(weights, chunkBytes)], totalBytes: encodedByteLength(weights) };
}
