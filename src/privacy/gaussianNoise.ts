import { randomFillSync } from 'node:crypto';

/**
 * Gaussian noise for the DP mechanisms, drawn from the operating system's CSPRNG (node:crypto), never Math.random:
 * a predictable noise stream would let whoever can predict it subtract the noise and void the privacy guarantee.
 *
 * Method: Box-Muller (Box and Muller 1958) on 53-bit uniforms. Each pair of outputs takes exactly 16 bytes of CSPRNG
 * output: u1 = (k1 + 1) / 2^53 in (0, 1] (never 0, so log(u1) is finite) and u2 = k2 / 2^53 in [0, 1), from 53-bit
 * integers k1, k2 built from 8 random bytes each; then r = sqrt(-2 ln u1), and r cos(2 pi u2), r sin(2 pi u2) are
 * two independent N(0, 1) samples. Chosen over Marsaglia's polar method because it consumes a fixed amount of
 * randomness and time per sample (no rejection loop), so the bytes can be drawn in large blocks with one
 * randomFillSync call, and the running time does not depend on the values drawn.
 * The smallest u1 is 2^-53, so |z| <= sqrt(2 * 53 ln 2) = 8.57: the tail beyond 8.57 standard deviations (mass
 * about 1e-17) is cut off.
 * Caveat, as for every floating-point sampler: the outputs are doubles, not exact reals, and floating-point samplers
 * are known to leak through their low-order bits in adversarial settings (Mironov 2012, "On significance of the
 * least significant bits for differential privacy"); a discrete Gaussian (Canonne, Kamath and Steinke 2020) is
 * the rigorous fix where that threat matters.
 */

const PAIRS_PER_BLOCK = 4096; // 64 KiB of random bytes per randomFillSync call
const TWO_POW_MINUS_53 = 2 ** -53;
const TWO_PI = 2 * Math.PI;

/** Fills `out` with independent N(0, std^2) samples from the CSPRNG; returns `out`. std 0 fills zeros. */
export function fillGaussian<T extends Float32Array | Float64Array>(out: T, std: number): T {
  if (!(std >= 0 && std < Infinity)) throw new RangeError(`the noise standard deviation must be >= 0 and finite, got ${std}`);
  if (std === 0) {
    out.fill(0);
    return out;
  }
  const words = new Uint32Array(4 * Math.min(PAIRS_PER_BLOCK, Math.ceil(out.length / 2)));
  let i = 0;
  while (i < out.length) {
    randomFillSync(words);
    for (let w = 0; w < words.length && i < out.length; w += 4) {
      // 53 random bits each: the top 27 bits of one word and the top 26 of the next.
      const k1 = (words[w]! >>> 5) * 67108864 + (words[w + 1]! >>> 6);
      const k2 = (words[w + 2]! >>> 5) * 67108864 + (words[w + 3]! >>> 6);
      const r = std * Math.sqrt(-2 * Math.log((k1 + 1) * TWO_POW_MINUS_53));
      const theta = TWO_PI * k2 * TWO_POW_MINUS_53;
      out[i++] = r * Math.cos(theta);
      if (i < out.length) out[i++] = r * Math.sin(theta);
    }
  }
  return out;
}

/** n independent N(0, std^2) samples from the CSPRNG, as a new Float64Array. */
export function gaussian(n: number, std: number): Float64Array {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`the sample count must be a whole number >= 0, got ${n}`);
  return fillGaussian(new Float64Array(n), std);
}
