import type { TensorSpec } from '../../src/protocol/tensors.js';

/** A dense layer's spec with `params` parameters in total: a big kernel and a 1000-value bias. */
export function benchSpec(params: number): TensorSpec[] {
  if (!Number.isSafeInteger(params) || params < 2_000) throw new Error(`params must be an integer >= 2000, got ${params}`);
  return [
    { name: 'dense/kernel', shape: [params - 1_000] },
    { name: 'dense/bias', shape: [1_000] },
  ];
}
