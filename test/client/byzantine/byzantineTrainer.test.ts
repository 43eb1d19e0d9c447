import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ByzantineTrainer, maliciousDelta, type ByzantineAttack } from '../../../src/client/byzantine/index.js';
import type { Trainer } from '../../../src/client/trainer.js';
import { subtractWeights } from '../../../src/client/weightDelta.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../../helpers/constantShiftTrainer.js';
import { TestFederation } from '../../helpers/federation.js';

/** Multiples of 1/8 well below 2^20, so float32 sums with the shifts below are exact. */
function globalWeights(): Weights {
  return [
    { name: 'kernel', shape: [2, 3], data: Float32Array.of(-1.5, 0, 2.25, 7, -3.125, 0.5) },
    { name: 'bias', shape: [3], data: Float32Array.of(1, -2, 0.375) },
  ];
}
const values = (w: Weights) => w.flatMap((t) => Array.from(t.data));
const l2 = (w: Weights) => Math.sqrt(values(w).reduce((s, v) => s + v * v, 0));

/** One round as the client node runs it: set the global, fit, upload getWeights() - global. */
async function uploadedDelta(trainer: Trainer, global: Weights, round = 1): Promise<Weights> {
  await trainer.setWeights(global);
  await trainer.fit({ round, epochs: 1, batchSize: 1, learningRate: 1 });
  return subtractWeights(await trainer.getWeights(), global);
}

const honestShift = 0.25;
const byzantine = (attack: ByzantineAttack) => new ByzantineTrainer(new ConstantShiftTrainer(globalWeights(), honestShift, 10), attack);

describe('ByzantineTrainer', () => {
  it('the honest trainer alone uploads its shift (the known honest delta)', async () => {
    const delta = await uploadedDelta(new ConstantShiftTrainer(globalWeights(), honestShift, 10), globalWeights());
    expect(values(delta)).toEqual(new Array(9).fill(honestShift));
  });

  it.each([
    [-10, -2.5],
    [100, 25],
    [0, 0],
  ])('scaled by %d: uploads exactly factor x the honest delta', async (factor, expected) => {
    const delta = await uploadedDelta(byzantine({ kind: 'scaled', factor }), globalWeights());
    expect(values(delta)).toEqual(new Array(9).fill(expected));
  });

  it('sign-flipped: uploads exactly the negated honest delta', async () => {
    const delta = await uploadedDelta(byzantine({ kind: 'sign-flipped' }), globalWeights());
    expect(values(delta)).toEqual(new Array(9).fill(-honestShift));
    expect(delta.map((t) => [t.name, t.shape])).toEqual([
      ['kernel', [2, 3]],
      ['bias', [3]],
    ]);
  });

  it('random: uploads seeded Gaussian noise of the given norm, whatever the honest update', async () => {
    const attack: ByzantineAttack = { kind: 'random', norm: 3, seed: 7 };
    const delta = await uploadedDelta(byzantine(attack), globalWeights(), 4);
    // Exact up to float32 rounding of global + noise and of the node's subtraction.
    expect(l2(delta)).toBeCloseTo(3, 5);
    const noise = values(maliciousDelta(globalWeights(), attack, 4));
    values(delta).forEach((v, i) => expect(v).toBeCloseTo(noise[i]!, 5));
    expect(new Set(noise.map((v) => Math.sign(v))).size).toBe(2);
    // Independent of the honest update: a trainer that shifts by 5 sends the same noise.
    const other = new ByzantineTrainer(new ConstantShiftTrainer(globalWeights(), 5, 10), attack);
    const otherDelta = await uploadedDelta(other, globalWeights(), 4);
    values(otherDelta).forEach((v, i) => expect(v).toBeCloseTo(values(delta)[i]!, 5));
    // A new direction each round, and from each seed.
    const nextRound = values(maliciousDelta(delta, attack, 5));
    const otherSeed = values(maliciousDelta(delta, { ...attack, seed: 8 }, 4));
    expect(nextRound).not.toEqual(values(maliciousDelta(delta, attack, 4)));
    expect(otherSeed).not.toEqual(values(maliciousDelta(delta, attack, 4)));
  });

  it('evaluates and describes itself honestly', async () => {
    const inner = new ConstantShiftTrainer(globalWeights(), honestShift, 10);
    const trainer = new ByzantineTrainer(inner, { kind: 'scaled', factor: -10 });
    expect(trainer.describe()).toEqual(inner.describe());
    expect(await trainer.evaluate({ round: 1, batchSize: 8 })).toEqual(await inner.evaluate({ round: 1, batchSize: 8 }));
  });

  it('refuses to fit before it has seen the global weights', async () => {
    await expect(byzantine({ kind: 'sign-flipped' }).fit({ round: 1, epochs: 1, batchSize: 1, learningRate: 1 })).rejects.toThrow(/setWeights/);
  });
});

describe('maliciousDelta', () => {
  it('leaves the honest update untouched and refuses invalid parameters', () => {
    const honest = globalWeights();
    const before = values(honest);
    maliciousDelta(honest, { kind: 'scaled', factor: 3 }, 1);
    maliciousDelta(honest, { kind: 'sign-flipped' }, 1);
    maliciousDelta(honest, { kind: 'random', norm: 1, seed: 0 }, 1);
    expect(values(honest)).toEqual(before);
    expect(() => maliciousDelta(honest, { kind: 'scaled', factor: Number.NaN }, 1)).toThrow(/finite/);
    expect(() => maliciousDelta(honest, { kind: 'random', norm: 0, seed: 0 }, 1)).toThrow(/norm/);
    expect(() => maliciousDelta([], { kind: 'random', norm: 1, seed: 0 }, 1)).toThrow(/no parameters/);
  });
});

describe('a Byzantine client in a real federation', () => {
  let fed: TestFederation;
  afterEach(async () => fed.close());

  it('its malicious update is what the coordinator averages', async () => {
    fed = new TestFederation();
    const silent = pino({ level: 'silent' });
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: globalWeights(),
      rounds: 1,
      logger: silent,
    });
    fed.client(coordinator.url, 'honest', new ConstantShiftTrainer(globalWeights(), 0.5, 10), { logger: silent });
    fed.client(coordinator.url, 'attacker', new ByzantineTrainer(new ConstantShiftTrainer(globalWeights(), 0.5, 10), { kind: 'scaled', factor: -10 }), { logger: silent });
    const result = await coordinator.run();
    // Example-weighted mean of +0.5 and -5 (10 examples each): -2.25, exact in float32.
    expect(values(result.weights)).toEqual(values(globalWeights()).map((v) => v - 2.25));
  });
});
