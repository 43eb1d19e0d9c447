import { silent } from '../helpers/silentLogger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { DEFAULT_CHUNK_BYTES } from '../../src/protocol/peer.js';
import { encodedByteLength } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../helpers/constantShiftTrainer.js';
import { TestFederation } from '../helpers/federation.js';

const BIG = 8_000_000; // float32 parameters: 32 MB
const SMALL = 10;

/**
 * Initial values that differ from parameter to parameter (a misplaced, dropped or repeated chunk shows up)
 * and are multiples of 1/8 below 2^13, so adding the shifts below stays exact in float32.
 */
function initialWeights(): Weights {
  const big = new Float32Array(BIG);
  for (let i = 0; i < BIG; i++) big[i] = ((i * 7919) % 65_536) / 8 - 4096;
  const small = Float32Array.from({ length: SMALL }, (_, i) => i - 5);
  return [
    { name: 'embedding', shape: [2_000, 4_000], data: big },
    { name: 'bias', shape: [SMALL], data: small },
  ];
}

let fed: TestFederation;
afterEach(async () => fed.close());

describe('a federation with a 32 MB model', () => {
  it('moves every parameter both ways in 1 MiB chunks and averages exactly', async () => {
    const initial = initialWeights();
    expect(encodedByteLength(initial)).toBeGreaterThan(30 * DEFAULT_CHUNK_BYTES);
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: initial,
      rounds: 1,
      logger: silent,
      transfer: { chunkBytes: DEFAULT_CHUNK_BYTES },
    });
    // Example-weighted mean shift: (10 x 0.5 + 30 x 2) / 40 = 1.625, exact in float32.
    const a = new ConstantShiftTrainer(initialWeights(), 0.5, 10, initial);
    const b = new ConstantShiftTrainer(initialWeights(), 2, 30, initial);
    fed.client(coordinator.url, 'a', a, { logger: silent, transfer: { chunkBytes: DEFAULT_CHUNK_BYTES } });
    fed.client(coordinator.url, 'b', b, { logger: silent, transfer: { chunkBytes: DEFAULT_CHUNK_BYTES } });
    const result = await coordinator.run();

    // Coordinator -> clients: each received the initial weights exactly.
    expect(a.receivedMismatches).toEqual([0]);
    expect(b.receivedMismatches).toEqual([0]);
    // Clients -> coordinator: the new global is initial + 1.625 everywhere.
    const outcomes = result.history[0]!.fit.outcomes;
    expect(outcomes.map((o) => [o.client, o.numExamples, o.failure]).sort()).toEqual([
      ['a', 10, undefined],
      ['b', 30, undefined],
    ]);
    const [big, small] = result.weights;
    expect(big!.shape).toEqual([2_000, 4_000]);
    expect(big!.data.length).toBe(BIG);
    const init = initial[0]!.data;
    const perChunk = DEFAULT_CHUNK_BYTES / 4;
    for (const i of [0, 1, perChunk - 3, perChunk - 2, perChunk, 3 * perChunk + 1, BIG / 2, BIG - 2, BIG - 1]) {
      expect(big!.data[i], `parameter ${i}`).toBe(init[i]! + 1.625);
    }
    let mismatches = 0;
    for (let i = 0; i < BIG; i++) if (big!.data[i] !== init[i]! + 1.625) mismatches++;
    expect(mismatches).toBe(0);
    expect(Array.from(small!.data)).toEqual(Array.from(initial[1]!.data, (v) => v + 1.625));
  });
});
