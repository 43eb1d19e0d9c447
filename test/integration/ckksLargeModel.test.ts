import { afterEach, describe, expect, it } from 'vitest';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { DEFAULT_CHUNK_BYTES } from '../../src/protocol/peer.js';
import { encodedByteLength } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../helpers/constantShiftTrainer.js';
import { TestFederation } from '../helpers/federation.js';
import { silent } from '../helpers/silentLogger.js';

/** 160,010 parameters: a real model size, 79 ciphertexts, an upload of about 2.6 MB against 640 kB plaintext. */
const KERNEL = [400, 400] as const;
const BIAS = 10;

function initialWeights(): Weights {
  const n = KERNEL[0] * KERNEL[1];
  const kernel = new Float32Array(n);
  // Values that differ from parameter to parameter, so a misplaced or dropped ciphertext shows.
  for (let i = 0; i < n; i++) kernel[i] = ((i * 7919) % 4096) / 1024 - 2;
  return [
    { name: 'kernel', shape: [...KERNEL], data: kernel },
    { name: 'bias', shape: [BIAS], data: Float32Array.from({ length: BIAS }, (_, i) => i - 5) },
  ];
}

let fed: TestFederation;
afterEach(async () => fed.close());

describe('CKKS at a real model size', () => {
  it('averages a 160k-parameter model over 2 rounds, every value within 1e-6 of the plaintext mean', async () => {
    const initial = initialWeights();
    // The encrypted upload is about 4x the plaintext one: well past the plaintext limit the coordinator once used.
    expect(encodedByteLength(initial)).toBeGreaterThan(640_000);
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 3, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: initial,
      rounds: 2,
      secureAggregation: 'ckks',
      logger: silent,
      transfer: { chunkBytes: DEFAULT_CHUNK_BYTES },
    });
    // Example-weighted mean shift per round: (10 x 0.5 + 30 x 2 + 60 x -1) / 100 = 0.05.
    const shifts = [
      ['a', 0.5, 10],
      ['b', 2, 30],
      ['c', -1, 60],
    ] as const;
    const handles = shifts.map(([name, shift, n]) => fed.client(coordinator.url, name, new ConstantShiftTrainer(initialWeights(), shift, n), { logger: silent, transfer: { chunkBytes: DEFAULT_CHUNK_BYTES } }));
    const result = await coordinator.run();

    expect(result.weights).toEqual([]);
    expect(result.history.map((r) => r.fit.outcomes.filter((o) => !o.failure).length)).toEqual([3, 3]);
    // One ciphertext per 4,096 values (coefficient encoding), each sent as its 32 KiB first polynomial and the
    // three contributors' seed records: megabytes, not kilobytes, and not the 64 KiB of a whole ciphertext each.
    const ciphertexts = Math.ceil(initial.reduce((n, t) => n + t.data.length, 0) / 4096);
    expect(result.encryptedModel!.bytes).toBeGreaterThan(ciphertexts * 32_768);
    expect(result.encryptedModel!.bytes).toBeLessThan(ciphertexts * (32_768 + 1_024));
    for (const handle of handles) {
      const global = handle.globalWeights()!;
      expect(global.map((t) => t.shape)).toEqual([[...KERNEL], [BIAS]]);
      let worst = 0;
      global.forEach((t, k) => {
        const start = initial[k]!.data;
        for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i]! - (start[i]! + 2 * 0.05)));
      });
      expect(worst).toBeLessThan(1e-6);
    }
  });
});
