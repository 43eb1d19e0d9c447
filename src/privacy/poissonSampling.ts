import { randomFillSync } from 'node:crypto';

/**
 * Poisson subsampling for DP-SGD: every record joins a step's batch independently with probability q, which is
 * exactly the sampling the RDP accountant's subsampled Gaussian mechanism assumes (Mironov, Talwar and Zhang 2019;
 * Abadi et al. 2016 call the batch a "lot"). Batch sizes vary (Binomial(n, q), mean qn, sometimes 0).
 *
 * The coins come from the operating system's CSPRNG (node:crypto), never from a seeded generator: the privacy
 * amplification by subsampling holds only if nobody can tell which records were drawn, and a seed written in an
 * experiment's config would tell them. Each coin is a 53-bit uniform u = k / 2^53 in [0, 1); a record joins when
 * u < q, so P(join) = ceil(q 2^53) / 2^53, within 2^-53 of q.
 */

const TWO_POW_MINUS_53 = 2 ** -53;
const RECORDS_PER_BLOCK = 8192; // 64 KiB of random bytes per randomFillSync call

/** The indices (ascending) of the records of 0..n-1 that one Poisson draw at rate q selects. */
export function poissonSubsample(n: number, q: number): number[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`the record count must be a whole number >= 0, got ${n}`);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`the sampling rate q must be in [0, 1], got ${q}`);
  if (q === 1) return Array.from({ length: n }, (_, i) => i);
  const chosen: number[] = [];
  if (q === 0) return chosen;
  const words = new Uint32Array(2 * Math.min(RECORDS_PER_BLOCK, n));
  let i = 0;
  while (i < n) {
    randomFillSync(words);
    for (let w = 0; w < words.length && i < n; w += 2, i++) {
      // 53 random bits: the top 27 bits of one word and the top 26 of the next.
      const k = (words[w]! >>> 5) * 67108864 + (words[w + 1]! >>> 6);
      if (k * TWO_POW_MINUS_53 < q) chosen.push(i);
    }
  }
  return chosen;
}
