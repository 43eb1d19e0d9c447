import type { PayloadLayout } from '../protocol/messages.js';
import { SharedPayload } from '../protocol/sharedPayload.js';
import { encodeWeightsChunks, encodedByteLength } from '../protocol/tensorCodec.js';
import type { Weights } from '../protocol/tensors.js';
import type { EncodedWeights } from './encodedWeights.js';

export type { EncodedWeights };

/**
 * Encodes the global weights once per round (mostly views of the weights, not copies); every selected client is
 * streamed the same chunks, hashed once for all of them as the first stream sends each (SharedPayload), not up front.
 */
export function encodeGlobal(weights: Weights, chunkBytes: number, layout?: PayloadLayout): SharedPayload {
  return new SharedPayload([...encodeWeightsChunks(weights, chunkBytes)], encodedByteLength(weights), layout);
}
