import { DiscreteGaussian } from './discreteGaussian.js';
import { csprngWords, type RandomWords } from './randomWords.js';

/**
 * Gaussian noise for the DP mechanisms: the discrete Gaussian (Canonne, Kamath and Steinke 2020, sampled exactly
 * in discreteGaussian.ts from node:crypto's CSPRNG) on a fine grid, never Math.random and never Box-Muller on
 * doubles (whose outputs leak through their low-order bits: Mironov 2012; Jin et al. 2022).
 *
 * The grid. Noise of standard deviation `std` is g Y with Y ~ N_Z(0, s^2), g = 2^(floor(log2 std) - 28) a power of
 * two and s = ceil(std / g), a whole number in [2^28, 2^29]: the noise is exactly a multiple of g, exactly
 * representable in a double, and its std s g exceeds `std` by less than 2^-28 of it (more noise: never less privacy).
 * 2^28 grid steps per std is what makes the grid invisible in the accounting: the discrete Gaussian's variance is
 * within exp(-2 pi^2 s^2) of s^2, and the query rounding below costs sqrt(d) g.
 *
 * The query must be on the grid too. Lattice noise added to a real value x gives x + gZ, which reveals x mod g
 * exactly: worse than the floating-point leak it replaces. So the mechanism (`addDiscreteGaussianNoise`) first
 * rounds each value to the nearest multiple of g, then adds g Y. The output is the discrete Gaussian mechanism on
 * the integer vector round(x / g); rounding moves each coordinate by at most g / 2, so two neighbouring queries
 * whose values differ by at most Delta in L2 norm round to integer vectors at most Delta + sqrt(d) g apart (in
 * units of g: Delta / g + sqrt(d)). The noise std is set to z (Delta + sqrt(d) g), so the multiplier the accountant
 * composes, z, holds for the rounded query exactly. Anything computed from the exact lattice output afterwards
 * (float32 storage, division by a count) is post-processing: a correctly rounded IEEE operation depends only on the
 * exact value it rounds.
 *
 * Accounting (what the RDP accountant's numbers mean for this noise). Without sampling (q = 1): for integer
 * vectors mu, nu, D_alpha(N_Z(mu, s^2 I) || N_Z(nu, s^2 I)) <= alpha |mu - nu|^2 / (2 s^2) (CKS20, the Rényi
 * divergence of discrete Gaussians, summed over independent coordinates), exactly the continuous Gaussian's: the
 * accountant's alpha / (2 z^2) is a valid bound. With Poisson sampling at rate q, integer orders: the accountant's
 * A_alpha = E[((1 - q) + q L)^alpha] expands binomially into terms E[L^i] with non-negative coefficients, L being the
 * same likelihood ratio as in the continuous case, and E[exp(lambda Y)] <= exp(lambda^2 s^2 / 2) for the discrete
 * Gaussian (it is s^2-subgaussian, CKS20), so each term is at most its continuous value and so is the RDP.
 * Fractional orders and the other direction of the divergence are taken from the continuous curve: with 2^28 grid
 * steps per std, Poisson summation puts the discrete and continuous expectations within exp(-2 pi^2 2^56) of each
 * other for these smooth integrands, far below double precision (an argument, not a proof).
 */

/** log2 of the grid steps per standard deviation. */
export const GRID_STEPS_LOG2 = 28;

/** The grid a noise of (at least) `std` lives on, and its whole std in grid steps. */
export interface NoiseGrid {
  /** g, a power of two: every noise value (and every noised value) is a multiple of it. */
  readonly grid: number;
  /** s: the noise is g Y with Y ~ N_Z(0, s^2). */
  readonly steps: number;
  /** s g, the noise's standard deviation (at least the one asked for, by less than 2^-28 of it). */
  readonly std: number;
}

function checkStd(std: number): void {
  if (!(std >= 0 && std < Infinity)) throw new RangeError(`the noise standard deviation must be >= 0 and finite, got ${std}`);
  if (std > 0 && std < 2 ** -900) throw new RangeError(`the noise standard deviation ${std} is too small for an exact grid (below 2^-900)`);
}

/** g = 2^(floor(log2 scale) - 28), computed exactly (Math.log2 may round across a power of two). */
function gridFor(scale: number): number {
  let e = Math.floor(Math.log2(scale));
  while (2 ** e > scale) e--;
  while (2 ** (e + 1) <= scale) e++;
  return 2 ** (e - GRID_STEPS_LOG2);
}

/** The grid and the whole number of steps for noise of standard deviation at least `std` > 0. */
export function noiseGrid(std: number): NoiseGrid {
  checkStd(std);
  if (std === 0) throw new RangeError('a noise grid needs a positive standard deviation');
  const grid = gridFor(std);
  const steps = Math.ceil(std / grid); // std / grid is exact: grid is a power of two
  return { grid, steps, std: steps * grid };
}

/**
 * Fills `out` with discrete Gaussian noise on the grid of `std` (values g Y, Y ~ N_Z(0, s^2)); returns `out`.
 * std 0 fills zeros. Noise alone: adding it to values that are not multiples of the grid reveals them modulo the
 * grid; use `addDiscreteGaussianNoise` to privatize values.
 */
export function fillGaussian<T extends Float32Array | Float64Array>(out: T, std: number, words: RandomWords = csprngWords): T {
  checkStd(std);
  if (std === 0 || out.length === 0) {
    out.fill(0);
    return out;
  }
  const { grid, steps } = noiseGrid(std);
  const sampler = new DiscreteGaussian(steps, words);
  for (let i = 0; i < out.length; i++) out[i] = sampler.sample() * grid;
  return out;
}

/** n draws of discrete Gaussian noise on the grid of `std`, as a new Float64Array. */
export function gaussian(n: number, std: number): Float64Array {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`the sample count must be a whole number >= 0, got ${n}`);
  return fillGaussian(new Float64Array(n), std);
}

/** The Gaussian mechanism's parameters: noise std z Delta (and the grid's share, see the file's comment). */
export interface GaussianMechanism {
  /** z, the noise multiplier the accountant composes. */
  readonly noiseMultiplier: number;
  /**
   * Delta, the L2 sensitivity of the values as computed: how far apart (L2) the values can be for two neighbouring
   * inputs, floating-point error of their computation included. A public bound, never a data-dependent one.
   */
  readonly sensitivity: number;
}

/** What a mechanism added. */
export interface NoiseReport extends NoiseGrid {
  /** Delta + sqrt(d) g: the sensitivity of the rounded query, which the noise std is z times (at least). */
  readonly roundedSensitivity: number;
}

/**
 * The discrete Gaussian mechanism on `values`, in place: each value is rounded to the nearest multiple of the
 * grid g, and g Y added, Y ~ N_Z(0, s^2) with s g >= z (Delta + sqrt(d) g), d = values.length (see the file's
 * comment for why both). Returns what it added; z = 0 leaves the values as they are.
 */
export function addDiscreteGaussianNoise(values: Float32Array | Float64Array, mechanism: GaussianMechanism, words: RandomWords = csprngWords): NoiseReport | undefined {
  const { noiseMultiplier: z, sensitivity } = mechanism;
  if (!(z >= 0 && z < Infinity)) throw new RangeError(`the noise multiplier must be >= 0 and finite, got ${z}`);
  if (!(sensitivity > 0 && sensitivity < Infinity)) throw new RangeError(`the sensitivity must be positive and finite, got ${sensitivity}`);
  if (z === 0 || values.length === 0) return undefined;
  const grid = gridFor(z * sensitivity);
  const roundedSensitivity = sensitivity + Math.sqrt(values.length) * grid;
  // z * roundedSensitivity / grid in double precision: nudged up so that rounding can only add noise.
  const steps = Math.ceil(((z * roundedSensitivity) / grid) * (1 + 2 ** -50));
  checkStd(steps * grid);
  const sampler = new DiscreteGaussian(steps, words);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`cannot privatize a non-finite value (${v}) at index ${i}`);
    // round(v / g) and the sum with Y are whole numbers (exact below 2^53); times g (a power of two) is exact too.
    // A value of 2^52 g or more is a multiple of g already (its ulp is at least g): v + g Y is then one correctly
    // rounded addition of two lattice points.
    const k = v / grid;
    values[i] = Math.abs(k) < 2 ** 52 ? (Math.round(k) + sampler.sample()) * grid : v + sampler.sample() * grid;
  }
  return { grid, steps, std: steps * grid, roundedSensitivity };
}
