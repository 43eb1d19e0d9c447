import { createHash } from 'node:crypto';
import type { Weights } from '../protocol/tensors.js';

/** SHA-256 (hex) over every tensor's name, shape and float32 bytes: a model version's fingerprint. */
export function weightsHash(weights: Weights): string {
  const hash = createHash('sha256');
  for (const t of weights) {
    hash.update(`${t.name}:${t.shape.join('x')};`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex');
}
