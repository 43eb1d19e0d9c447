import { writeFileSync, readFileSync } from 'node:fs';
import { sizeOfShape, type Weights } from '../../src/protocol/tensors.js';
import { benchSpec } from './modelSpec.js';

/**
 * The model of bench/ckksRound.ts. Initial values are multiples of 2^-10 in [-2, 2) that differ from
 * parameter to parameter (a misplaced ciphertext shows); client k moves every weight by (k+1)/4 and every
 * client has the same example count, so the mean step is (clients + 1) / 8, a short binary fraction: plain
 * FedAvg's float32 result is exact, and CKKS (error ~1e-9) must land within 1e-6 of it.
 */
export const initialValue = (i: number): number => ((i * 7919) % 4096) / 1024 - 2;
export const stepOf = (k: number): number => (k + 1) / 4;
export const EXAMPLES_PER_CLIENT = 100;

export function meanStep(clients: number): number {
  let sum = 0;
  for (let k = 0; k < clients; k++) sum += stepOf(k);
  return sum / clients;
}

export function initialWeights(params: number): Weights {
  let at = 0;
  return benchSpec(params).map((t) => {
    const data = new Float32Array(sizeOfShape(t.shape));
    for (let i = 0; i < data.length; i++) data[i] = initialValue(at + i);
    at += data.length;
    return { name: t.name, shape: t.shape, data };
  });
}

/** Writes the weights, flattened, as raw little-endian float32 (for the parent to compare). */
export function writeFlat(path: string, weights: Weights): void {
  const n = weights.reduce((s, t) => s + t.data.length, 0);
  const flat = new Float32Array(n);
  let at = 0;
  for (const t of weights) {
    flat.set(t.data, at);
    at += t.data.length;
  }
  writeFileSync(path, new Uint8Array(flat.buffer));
}

export function readFlat(path: string): Float32Array {
  const bytes = readFileSync(path);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}
