import { describe, expect, it } from 'vitest';
import { Bulyan } from '../../../src/coordinator/strategies/bulyan.js';
import { FedAdagrad } from '../../../src/coordinator/strategies/fedAdagrad.js';
import { FedAdam } from '../../../src/coordinator/strategies/fedAdam.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { FedAvgM } from '../../../src/coordinator/strategies/fedAvgM.js';
import { FedMedian } from '../../../src/coordinator/strategies/fedMedian.js';
import { FedProx } from '../../../src/coordinator/strategies/fedProx.js';
import { FedTrimmedAvg } from '../../../src/coordinator/strategies/fedTrimmedAvg.js';
import { FedYogi } from '../../../src/coordinator/strategies/fedYogi.js';
import { Krum } from '../../../src/coordinator/strategies/krum.js';
import { Scaffold } from '../../../src/coordinator/strategies/scaffold.js';
import type { Strategy } from '../../../src/coordinator/strategy.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { aggregateUploads, fit, reportsOf, weights, type Upload } from './harness.js';

/**
 * The coordinator passes its own copy of the global as aggregateFit's `into`, and every built-in strategy writes
 * the new model there instead of allocating one (at 100M parameters, 400 MB a round). These check that the model
 * made in place is bit for bit the one made into new arrays, round after round (server state included: momentum,
 * moments, control variates), and that without `into` the global is left alone.
 */
const bytes = (w: Weights) => Buffer.concat(w.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
const copy = (w: Weights): Weights => w.map((t) => ({ name: t.name, shape: [...t.shape], data: t.data.slice() }));

/** Seven clients' irregular deltas, `width` values each (seven: Bulyan with f = 1 needs n >= 7). */
function uploadsFor(round: number, width: number): Upload[] {
  return Array.from({ length: 7 }, (_, k) => ({
    client: `c${k}`,
    weight: 3 + k * 7,
    values: Array.from({ length: width }, (_, i) => Math.sin(round * 12.9898 + i * 78.233 + k * 3.1) * (1 + i)),
  }));
}

const cases: [string, () => Strategy, number][] = [
  ['FedAvg', () => new FedAvg({ fit, serverLearningRate: 0.7 }), 1],
  ['FedProx', () => new FedProx({ fit, proximalMu: 0.1 }), 1],
  ['FedAvgM', () => new FedAvgM({ fit, serverMomentum: 0.7 }), 1],
  ['FedAdam', () => new FedAdam({ fit }), 1],
  ['FedYogi', () => new FedYogi({ fit }), 1],
  ['FedAdagrad', () => new FedAdagrad({ fit, beta1: 0.3 }), 1],
  ['SCAFFOLD', () => new Scaffold({ fit, totalClients: 7 }), 2],
  ['FedMedian', () => new FedMedian({ fit }), 1],
  ['FedTrimmedAvg', () => new FedTrimmedAvg({ fit, beta: 0.2 }), 1],
  ['Krum', () => new Krum({ fit, byzantine: 1, keep: 3, minFitClients: 5 }), 1],
  ['Bulyan', () => new Bulyan({ fit, byzantine: 1, minFitClients: 7 }), 1],
];

describe.each(cases)('%s: the step written in place', (_name, create, uploadFactor) => {
  const global0 = weights([0.5, -1, 2, 7], [0.25, -3]);
  const width = 6 * uploadFactor;

  it('is bit-identical to the step into new arrays, over three rounds, and lands in `into`', async () => {
    const apart = create();
    const inPlace = create();
    let a = apart.initialize(copy(global0));
    let b = inPlace.initialize(copy(global0));
    for (let round = 1; round <= 3; round++) {
      const uploads = uploadsFor(round, width);
      const before = bytes(a);
      const next = apart.aggregateFit(round, a, await aggregateUploads(apart, a, uploads, round), reportsOf(uploads), []);
      // Without `into` the strategy's input is not written.
      expect(bytes(a).equals(before)).toBe(true);
      const own = b;
      const written = inPlace.aggregateFit(round, b, await aggregateUploads(inPlace, b, uploads, round), reportsOf(uploads), [], b);
      // Written over the coordinator's arrays, not into new ones.
      written.weights.forEach((t, k) => expect(t.data).toBe(own[k]!.data));
      expect(bytes(written.weights).equals(bytes(next.weights))).toBe(true);
      expect(bytes(written.weights).equals(before)).toBe(false);
      expect(written.metrics).toEqual(next.metrics);
      a = next.weights;
      b = written.weights;
    }
    expect(inPlace.state?.()).toEqual(apart.state?.());
  });
});
