import type { SeededRng } from '../../protocol/seededRng.js';

/**
 * Normal, gamma and Dirichlet samples drawn from the seeded (non-cryptographic) PRNG, for reproducible
 * data partitioning and simulated attackers only. DP noise never comes from here (see privacy/gaussianNoise).
 */

/** Uniform in (0, 1]: never 0, so its logarithm is finite. */
function openUniform(rng: SeededRng): number {
  return 1 - rng.nextFloat();
}

/** One N(0, 1) sample: Box-Muller (Box and Muller 1958), one of the pair kept so each call is self-contained. */
export function sampleNormal(rng: SeededRng): number {
  const r = Math.sqrt(-2 * Math.log(openUniform(rng)));
  return r * Math.cos(2 * Math.PI * rng.nextFloat());
}

/**
 * log X for X ~ Gamma(shape, 1), by Marsaglia and Tsang (2000), "A simple method for generating gamma
 * variables", ACM TOMS 26(3). For shape < 1 it uses their boost Gamma(a) = Gamma(a + 1) * U^(1/a), kept in
 * log space: with a = 0.01, U^(1/a) underflows to 0 for most U, and a Dirichlet built from such zeros
 * would divide 0 by 0.
 */
export function sampleLogGamma(shape: number, rng: SeededRng): number {
  if (!(shape > 0 && Number.isFinite(shape))) throw new RangeError(`gamma shape must be positive and finite, got ${shape}`);
  if (shape < 1) return sampleLogGamma(shape + 1, rng) + Math.log(openUniform(rng)) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = sampleNormal(rng);
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = openUniform(rng);
    // The squeeze accepts about 98% of draws without a logarithm; the exact test decides the rest.
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return Math.log(d) + Math.log(v);
  }
}

/** X ~ Gamma(shape, 1). May underflow to 0 for shape far below 1; use `sampleLogGamma` there. */
export function sampleGamma(shape: number, rng: SeededRng): number {
  return Math.exp(sampleLogGamma(shape, rng));
}

/**
 * One draw of Dir(alpha_1..alpha_k): normalized independent Gamma(alpha_i, 1) variables, normalized in log
 * space (subtract the largest logarithm first) so that tiny alphas still give proportions summing to 1.
 */
export function sampleDirichlet(alpha: readonly number[], rng: SeededRng): number[] {
  if (alpha.length === 0) throw new RangeError('a Dirichlet needs at least one concentration parameter');
  const logs = alpha.map((a) => sampleLogGamma(a, rng));
  const top = logs.reduce((m, l) => Math.max(m, l), -Infinity);
  const weights = logs.map((l) => Math.exp(l - top));
  const total = weights.reduce((s, w) => s + w, 0); // >= 1: the largest weight is exactly 1
  return weights.map((w) => w / total);
}
