import { afterEach, describe, expect, it } from 'vitest';
import { quantizeInt8 } from '../../src/client/compression/quantizeInt8.js';
import { topK } from '../../src/client/compression/topK.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { encodeCompressedChunks, type CompressedUpdate } from '../../src/protocol/compressedFormat.js';
import { INT8_BLOCK, topKCount, type CompressionOptions } from '../../src/protocol/compression.js';
import { createSeededRng } from '../../src/protocol/seededRng.js';
import { encodedHeaderLength } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../helpers/constantShiftTrainer.js';
import { TestFederation } from '../helpers/federation.js';
import { ScriptedClient } from '../helpers/scriptedClient.js';
import { silent } from '../helpers/silentLogger.js';

const SIZE = 2_000;
const spec = [{ name: 'w', shape: [SIZE] }];
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: new Float32Array(SIZE) }];
const K = topKCount(0.1, SIZE);
const BODY = encodedHeaderLength(spec);

function bytesOf(update: CompressedUpdate): Uint8Array {
  return Uint8Array.from(Buffer.concat([...encodeCompressedChunks(update, 1 << 20)]));
}
const delta = () => Float32Array.from({ length: SIZE }, (_, i) => Math.sin(i) * 1e-2);
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Top-k payloads a hostile client sends, each broken one way. */
const sparseFaults: Record<string, () => Uint8Array> = {
  'a count above k': () => {
    const dense = delta();
    return bytesOf(topK(dense, spec, K + 1));
  },
  'an index out of range': () => {
    const b = bytesOf(topK(delta(), spec, K));
    view(b).setUint32(BODY + 4 + 8 * (K - 1), SIZE + 5, true);
    return b;
  },
  'a duplicate index': () => {
    const b = bytesOf(topK(delta(), spec, K));
    view(b).setUint32(BODY + 4 + 8 * 3, view(b).getUint32(BODY + 4 + 8 * 2, true), true);
    return b;
  },
};

let fed: TestFederation;
afterEach(async () => fed.close());

/** A run with two honest nodes and a scripted one whose upload each round is `payloads[round - 1]`. */
async function runWithMallory(compression: CompressionOptions, payloads: readonly { bytes: Uint8Array; compression?: 'int8' | 'topk' }[]) {
  fed = new TestFederation();
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 3, fractionFit: 1, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
    initialWeights: initial(),
    rounds: payloads.length,
    seed: 4,
    compression,
    logger: silent,
  });
  const mallory = await ScriptedClient.connect(coordinator.url, 'mallory', generateIdentity(), { modelSpec: spec });
  const refusals: string[] = [];
  fed.client(coordinator.url, 'h0', new ConstantShiftTrainer(initial(), 0.01, 10), { logger: silent });
  fed.client(coordinator.url, 'h1', new ConstantShiftTrainer(initial(), -0.02, 10), { logger: silent });
  const run = coordinator.run();
  for (const payload of payloads) {
    const task = await mallory.nextFit();
    expect(task.meta.config.extra).toMatchObject({ compression: compression.method });
    await mallory.upload(task.meta, initial(), { payload: payload.bytes, ...(payload.compression ? { compression: payload.compression } : {}) }).catch((e: Error) => refusals.push(e.message));
  }
  const result = await run;
  mallory.close();
  return { result, refusals };
}

describe('a coordinator under hostile compressed uploads', () => {
  it('top-k: a wrong count, an out-of-range index, a duplicate index, a dense upload: each refused with the reason, the honest nodes\' rounds complete', async () => {
    const faults = Object.values(sparseFaults).map((make) => ({ bytes: make(), compression: 'topk' as const }));
    const dense = new Uint8Array(Buffer.concat([Buffer.from('CHT1')])); // any dense payload: refused on its header alone
    const { result, refusals } = await runWithMallory({ method: 'topk', fraction: 0.1 }, [...faults, { bytes: dense }]);
    expect(result.history).toHaveLength(4);
    const details = result.history.map((r) => r.fit.outcomes.find((o) => o.client === 'mallory')!.failure?.detail);
    expect(details[0]).toMatch(new RegExp(`the top-k update carries ${K + 1} values; this run's uploads carry exactly ${K} of ${SIZE}`));
    expect(details[1]).toMatch(new RegExp(`top-k index ${SIZE + 5} is out of range: the model has ${SIZE} values`));
    expect(details[2]).toMatch(/top-k index \d+ follows index \d+: indices must be strictly increasing \(no duplicates\)/);
    expect(details[3]).toMatch(/the update is not compressed, but this run's uploads are topk-compressed \(compression: topk\)/);
    expect(refusals).toHaveLength(4);
    for (const record of result.history) {
      expect(record.fit.outcomes.filter((o) => !o.failure).map((o) => o.client).sort()).toEqual(['h0', 'h1']);
    }
    // The honest top-k uploads moved the model: their k values a round, nothing of mallory's.
    const w = result.weights[0]!.data;
    expect(w.filter((v) => v !== 0).length).toBeGreaterThanOrEqual(K);
    expect(w.every((v) => Number.isFinite(v) && Math.abs(v) <= 0.02 * 4)).toBe(true);
  });

  it('an uncompressed run refuses a compressed upload, naming the setting', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 3, fractionFit: 1, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }), initialWeights: initial(), rounds: 1, logger: silent });
    const mallory = await ScriptedClient.connect(coordinator.url, 'mallory', generateIdentity(), { modelSpec: spec });
    fed.client(coordinator.url, 'h0', new ConstantShiftTrainer(initial(), 0.01, 10), { logger: silent });
    fed.client(coordinator.url, 'h1', new ConstantShiftTrainer(initial(), -0.02, 10), { logger: silent });
    const run = coordinator.run();
    const task = await mallory.nextFit();
    expect(task.meta.config.extra?.compression).toBeUndefined();
    await expect(mallory.upload(task.meta, initial(), { payload: bytesOf(quantizeInt8(delta(), spec, createSeededRng(1))), compression: 'int8' })).rejects.toThrow(
      "the update is int8-compressed, but this run's uploads are uncompressed float32 (no compression is configured)",
    );
    const record = (await run).history[0]!;
    mallory.close();
    expect(record.fit.outcomes.filter((o) => !o.failure).map((o) => o.client).sort()).toEqual(['h0', 'h1']);
  });

  it('int8: a NaN scale and a level of -128 are refused with the reason; the rounds complete without them', async () => {
    const quantized = () => bytesOf(quantizeInt8(delta(), spec, createSeededRng(1)));
    const nan = quantized();
    view(nan).setFloat32(BODY + 2 * (4 + INT8_BLOCK), Number.NaN, true);
    const low = quantized();
    low[BODY + 4 + 17] = 0x80;
    const { result } = await runWithMallory({ method: 'int8' }, [{ bytes: nan, compression: 'int8' }, { bytes: low, compression: 'int8' }]);
    const details = result.history.map((r) => r.fit.outcomes.find((o) => o.client === 'mallory')!.failure?.detail);
    expect(details[0]).toMatch(/int8 block 2 has scale NaN: a scale must be finite and not negative/);
    expect(details[1]).toMatch(/int8 value 17 has level -128, outside -127..127/);
    // The honest mean: (0.01 - 0.02) / 2 = -0.005 a round, to within int8's rounding of each upload.
    const w = result.weights[0]!.data;
    const mean = w.reduce((s, v) => s + v, 0) / SIZE;
    expect(mean).toBeCloseTo(-0.01, 3);
  });
});
