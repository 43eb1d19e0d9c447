import { describe, expect, it } from 'vitest';
import { FitChains } from '../../src/client/mods/chainFor.js';
import type { FitConfig } from '../../src/client/trainer.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import type { ClientMode } from '../../src/modes/clientMode.js';
import { MODES } from '../../src/modes/index.js';
import { plainClientMode } from '../../src/modes/plain/client.js';
import { compressionExtras, type CompressionOptions } from '../../src/protocol/compression.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { silent } from '../helpers/silentLogger.js';

const initialWeights = (): Weights => [{ name: 'w', shape: [8], data: new Float32Array(8) }];
const start = (secureAggregation: 'plain' | 'ckks' | 'secaggplus', compression: CompressionOptions) =>
  Coordinator.start({ strategy: new FedAvg({ minFitClients: 3, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }), initialWeights: initialWeights(), rounds: 1, secureAggregation, compression, logger: silent });

describe('which modes carry compressed updates', () => {
  it('ckks and secaggplus refuse compression at start, each with its reason and the settings that control its own encoding', async () => {
    await expect(start('ckks', { method: 'int8' })).rejects.toThrow(
      /^compression cannot run with secureAggregation: ckks: CKKS encrypts every value into ciphertext slots whose size the encryption parameters fix .* remove compression/,
    );
    await expect(start('secaggplus', { method: 'topk', fraction: 0.1 })).rejects.toThrow(
      /^compression cannot run with secureAggregation: secaggplus: SecAgg\+ already quantizes every value itself, into the ring Z_\(2\^bits\) with a step set by secaggplus.bits .* and secaggplus.clippingRange/,
    );
    await expect(start('plain', { method: 'topk', fraction: 0.75 })).rejects.toThrow(/^compression.fraction \(the share of values a top-k upload keeps\) must be in \(0, 0.5\], got 0.75/);
    const plain = await start('plain', { method: 'int8' });
    await plain.close();
    expect(Object.values(MODES).filter((m) => m.compressionRefusal === undefined).map((m) => m.name)).toEqual(['plain']);
  });
});

describe("a client's fit chain under compression", () => {
  const config = (compression?: CompressionOptions): FitConfig => ({ round: 1, epochs: 1, batchSize: 1, learningRate: 1, ...(compression ? { extra: compressionExtras(compression, 7) } : {}) });
  const secure = (name: 'ckks' | 'secaggplus'): ClientMode => ({ ...plainClientMode(1024), name, protectsUpdates: true, steps: () => [] });

  it('puts compression outermost, outside local DP and clipping: what it compresses is what they release', () => {
    const chains = new FitChains({ localPrivacy: { release: () => ({ update: [], epsilon: 1 }) } as never, onLocalRelease: () => undefined });
    const withClip = { ...config({ method: 'int8' }), extra: { ...config({ method: 'int8' }).extra, clipNorm: 1 } };
    expect(chains.for(withClip, plainClientMode(1024), 'run').steps).toEqual(['compression (int8)', 'local DP', 'clipping']);
    expect(chains.for(config(), plainClientMode(1024), 'run').steps).toEqual(['local DP']);
  });

  it('refuses a compressed task under a mode that protects updates (a coordinator asking for it is not obeyed)', () => {
    const chains = new FitChains({ onLocalRelease: () => undefined });
    expect(() => chains.for(config({ method: 'topk', fraction: 0.1 }), secure('ckks'), 'run')).toThrow('compression (topk) cannot run with secure aggregation ckks in the same fit');
    expect(() => chains.for(config({ method: 'int8' }), secure('secaggplus'), 'run')).toThrow('compression (int8) cannot run with secure aggregation secaggplus in the same fit');
    expect(() => chains.for({ ...config(), extra: { compression: 'zip', compressionSeed: 1 } }, plainClientMode(1024), 'run')).toThrow("the task's compression.method must be int8 or topk, got zip");
  });
});
