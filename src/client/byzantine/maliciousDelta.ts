import { z } from 'zod';
import { createSeededRng, mixSeed } from '../../protocol/seededRng.js';
import type { NamedTensor, Weights } from '../../protocol/tensors.js';
import { sampleNormal } from '../sampling/seededDistributions.js';

/**
 * Model-poisoning attacks a simulated Byzantine client mounts on its update, the ones robust-aggregation
 * papers test against (Blanchard et al. 2017, Krum; Yin et al. 2018, median; Fang et al. 2020):
 * - `scaled`: the honest update times `factor` (boosting, e.g. 100; or reversing and boosting, e.g. -10);
 * - `sign-flipped`: the honest update negated;
 * - `random`: the update replaced by Gaussian noise rescaled to L2 norm `norm`, a fresh direction each round.
 */
export const byzantineAttackSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('scaled'), factor: z.number().finite() }),
  z.strictObject({ kind: z.literal('sign-flipped') }),
  z.strictObject({ kind: z.literal('random'), norm: z.number().positive().finite(), seed: z.number().int().default(0) }),
]);
/** A Byzantine client's attack on its update, with its parameters. */
export type ByzantineAttack = z.infer<typeof byzantineAttackSchema>;

/**
 * The update an attacker sends in place of `honest` (= local - global) in `round`. Pure: the random attack's
 * noise is a function of (seed, round) from the seeded PRNG (it simulates an attacker; it protects nothing).
 */
export function maliciousDelta(honest: Weights, attack: ByzantineAttack, round: number): Weights {
  switch (attack.kind) {
    case 'scaled':
      if (!Number.isFinite(attack.factor)) throw new RangeError(`the scaling factor must be finite, got ${attack.factor}`);
      return honest.map((t) => mapTensor(t, (v) => attack.factor * v));
    case 'sign-flipped':
      return honest.map((t) => mapTensor(t, (v) => -v));
    case 'random':
      return randomUpdate(honest, attack.norm, mixSeed(attack.seed, round));
  }
}

function mapTensor(t: NamedTensor, f: (v: number) => number): NamedTensor {
  const data = new Float32Array(t.data.length);
  for (let i = 0; i < data.length; i++) data[i] = f(t.data[i]!);
  return { name: t.name, shape: [...t.shape], data };
}

/** Gaussian noise shaped like `like`, rescaled so its L2 norm over every tensor together is `norm`. */
function randomUpdate(like: Weights, norm: number, seed: number): Weights {
  if (!(norm > 0 && Number.isFinite(norm))) throw new RangeError(`the random update's norm must be positive and finite, got ${norm}`);
  const rng = createSeededRng(seed);
  for (;;) {
    const draws = like.map((t) => Float64Array.from({ length: t.data.length }, () => sampleNormal(rng)));
    const length = Math.sqrt(draws.reduce((s, d) => d.reduce((a, v) => a + v * v, s), 0));
    // A zero-length draw (no parameters, or all draws exactly 0) has no direction to rescale.
    if (length === 0) {
      if (draws.every((d) => d.length === 0)) throw new RangeError('cannot make a random update of positive norm for a model with no parameters');
      continue;
    }
    return like.map((t, i) => ({ name: t.name, shape: [...t.shape], data: Float32Array.from(draws[i]!, (v) => (v * norm) / length) }));
  }
}
