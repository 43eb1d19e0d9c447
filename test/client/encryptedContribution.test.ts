import { describe, expect, it } from 'vitest';
import { encryptedContribution as fromDelta } from '../../src/client/encryptedContribution.js';
import { subtractWeights } from '../../src/client/weightDelta.js';
import { cohortInstructions, planEncryptedRounds } from '../../src/modes/ckks/plan.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { FedAvgM } from '../../src/coordinator/strategies/fedAvgM.js';
import { encryptedExtras, readEncryptedInstructions, type EncryptedInstructions } from '../../src/protocol/encryptedInstructions.js';
import { layoutLength, unpackLayout } from '../../src/protocol/encryptedLayout.js';
import type { Weights } from '../../src/protocol/tensors.js';

const model = (...v: number[]): Weights => [{ name: 'w', shape: [v.length], data: Float32Array.from(v) }];
/** A client's contribution from the model it trained (its delta from the state's global). */
const encryptedContribution = (state: Parameters<typeof fromDelta>[0], local: Weights, ins: EncryptedInstructions) => fromDelta(state, subtractWeights(local, state.weights), ins);
const fit = { epochs: 1, batchSize: 1, learningRate: 0.1 };

/** The weighted mean of the clients' vectors: what decrypting the coordinator's ciphertext sum yields. */
function weightedMean(vectors: Float32Array[], weights: number[]): Float32Array {
  const total = weights.reduce((a, b) => a + b, 0);
  return vectors[0]!.map((_, i) => vectors.reduce((s, v, k) => s + v[i]! * weights[k]!, 0) / total);
}

describe('a client\'s part of the encrypted state', () => {
  it('makes the weighted mean equal FedAvgM\'s step: v <- beta v + mean delta, w <- w + lr v', () => {
    const global = model(1, -2);
    const state = { weights: global, momentum: Float32Array.from([0.5, 0.25]) };
    const ins: EncryptedInstructions = { weight: 0.5, serverLearningRate: 0.5, serverMomentum: 0.9 };
    const locals = [model(2, -2), model(1, 0)]; // deltas (1, 0) and (0, 2)
    const parts = locals.map((l) => encryptedContribution(state, l, ins).vector);
    expect(parts[0]!.length).toBe(4);
    const mean = weightedMean(parts, [3, 1]); // mean delta = (0.75, 0.5)
    const v = [0.9 * 0.5 + 0.75, 0.9 * 0.25 + 0.5];
    const next = unpackLayout(mean, { parameters: 2, momentum: true, logClipNorm: false }, [{ name: 'w', shape: [2] }]);
    expect(Array.from(next.momentum!)).toEqual([expect.closeTo(v[0]!, 6), expect.closeTo(v[1]!, 6)]);
    expect(Array.from(next.weights[0]!.data)).toEqual([expect.closeTo(1 + 0.5 * v[0]!, 6), expect.closeTo(-2 + 0.5 * v[1]!, 6)]);
  });

  it('starts momentum from zero and packs only the model for FedAvg', () => {
    const withMomentum = encryptedContribution({ weights: model(0) }, model(2), { weight: 1, serverLearningRate: 1, serverMomentum: 0.9 }).vector;
    expect(Array.from(withMomentum)).toEqual([2, 2]);
    const plain = encryptedContribution({ weights: model(1, 1) }, model(3, 0), { weight: 1, serverLearningRate: 0.5, serverMomentum: 0 }).vector;
    expect(Array.from(plain)).toEqual([2, 0.5]);
  });

  it('clips to C and moves log C by Andrew et al.\'s geometric step on the unclipped fraction', () => {
    const adaptive = { initialClipNorm: 1, targetQuantile: 0.5, learningRate: 0.2, countNoiseShare: 0 };
    const ins: EncryptedInstructions = { weight: 0.5, serverLearningRate: 1, serverMomentum: 0, dp: { clipNorm: adaptive, noiseShare: 0 } };
    const global = model(0, 0);
    const small = encryptedContribution({ weights: global }, model(0.3, 0.4), ins); // norm 0.5 <= C = 1: unclipped
    const big = encryptedContribution({ weights: global, clipNorm: 1 }, model(3, 4), ins); // norm 5: clipped to 1
    expect(small.clipNorm).toBe(1);
    expect(Array.from(big.vector.subarray(0, 2))).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    const mean = weightedMean([small.vector, big.vector], [1, 1]);
    const next = unpackLayout(mean, { parameters: 2, momentum: false, logClipNorm: true }, [{ name: 'w', shape: [2] }]);
    // One of two unclipped: b = 0.5 = gamma, so C stays; the mean update is ((0.3 + 0.6) / 2, (0.4 + 0.8) / 2).
    expect(next.clipNorm).toBeCloseTo(1, 6);
    expect(Array.from(next.weights[0]!.data)).toEqual([expect.closeTo(0.45, 6), expect.closeTo(0.6, 6)]);
    const both = weightedMean([small.vector, small.vector], [1, 1]);
    expect(Math.exp(both[2]!)).toBeCloseTo(Math.exp(-0.2 * (1 - 0.5)), 6); // all unclipped: C shrinks
  });

  it('adds noise of std noiseShare x C, from the CSPRNG', () => {
    const ins: EncryptedInstructions = { weight: 1, serverLearningRate: 1, serverMomentum: 0, dp: { clipNorm: 2, noiseShare: 0.5 } };
    const n = 150_000; // several of the blocks the noise is drawn in
    const zeros = [{ name: 'w', shape: [n], data: new Float32Array(n) }];
    const v = encryptedContribution({ weights: zeros }, zeros, ins).vector;
    const sd = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / n);
    expect(sd).toBeGreaterThan(0.99);
    expect(sd).toBeLessThan(1.01);
    // Every block gets fresh noise: the last values are not a repeat of the first block's.
    expect(Array.from(v.subarray(n - 100))).not.toEqual(Array.from(v.subarray(n - 100 - 65_536, n - 65_536)));
  });
});

describe('CKKS round instructions', () => {
  it('round-trip through FitInstructions.extra and refuse values no step can use', () => {
    const ins: EncryptedInstructions = {
      weight: 0.25,
      serverLearningRate: 0.7,
      serverMomentum: 0.9,
      dp: { clipNorm: { initialClipNorm: 0.1, targetQuantile: 0.5, learningRate: 0.2, countNoiseShare: 0.3 }, noiseShare: 0.4 },
    };
    expect(readEncryptedInstructions(encryptedExtras(ins))).toEqual(ins);
    expect(readEncryptedInstructions({ clipNorm: 1 })).toBeUndefined(); // a plaintext task
    expect(() => readEncryptedInstructions({ ckksWeight: 2 })).toThrow(/ckksWeight must be in \(0, 1\]/);
    expect(() => readEncryptedInstructions({ ckksWeight: 0.5, ckksServerMomentum: 1 })).toThrow(/ckksServerMomentum must be in \[0, 1\)/);
    expect(() => readEncryptedInstructions({ ckksWeight: 0.5, dpNoiseShare: 1 })).toThrow(/DP noise without a clip norm/);
  });

  it('splits the noise over the cohort, with Theorem 1\'s z_delta for the sum under adaptive clipping', () => {
    const strategy = new FedAvgM({ fit, serverMomentum: 0.9 });
    const plan = planEncryptedRounds(strategy.capabilities.linearStep, 10, { clipNorm: { initialClipNorm: 1, targetQuantile: 0.5, countNoiseStd: 2 }, noiseMultiplier: 1 });
    expect(layoutLength(plan.layout)).toBe(21);
    const ins = cohortInstructions(plan, 4);
    const zDelta = 1 / Math.sqrt(1 - 1 / 16);
    expect(ins.dp!.noiseShare).toBeCloseTo(zDelta / 2, 12);
    expect(ins.dp!.clipNorm).toMatchObject({ countNoiseShare: 1, learningRate: 0.2 });
    expect(() => planEncryptedRounds(strategy.capabilities.linearStep, 10, { clipNorm: { initialClipNorm: 1, targetQuantile: 0.5, countNoiseStd: 0.4 }, noiseMultiplier: 1 })).toThrow(/countNoiseStd 0.4 must exceed/);
    expect(layoutLength(planEncryptedRounds(new FedAvg({ fit }).capabilities.linearStep, 10, undefined).layout)).toBe(10);
  });
});
