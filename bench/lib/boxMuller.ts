import { randomFillSync } from 'node:crypto';

/**
 * The sampler Cohort used before the discrete Gaussian (src/privacy/gaussianNoise.ts before it), kept only as the
 * benchmarks' peer: Box-Muller on 53-bit uniforms from node:crypto, 16 random bytes a pair, cut at 8.57 sigma.
 * Never for DP noise (floating-point samplers leak through their low bits: Mironov 2012).
 */
const PAIRS_PER_BLOCK = 4096;
const TWO_POW_MINUS_53 = 2 ** -53;
const TWO_PI = 2 * Math.PI;

export function fillBoxMuller<T extends Float32Array | Float64Array>(out: T, std: number): T {
  const words = new Uint32Array(4 * Math.min(PAIRS_PER_BLOCK, Math.ceil(out.length / 2)));
  let i = 0;
  while (i < out.length) {
    randomFillSync(words);
    for (let w = 0; w < words.length && i < out.length; w += 4) {
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
