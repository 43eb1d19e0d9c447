/**
 * DP noise throughput: the exact discrete Gaussian (CKS20 Algorithm 3 with double-precision comparisons and an
 * integer fallback, src/privacy/discreteGaussian.ts) against the Box-Muller sampler it replaced, measured in the
 * same run on the same draws (1M per run: one noise vector for a 1M-parameter update). Also the mechanism as
 * DpMean runs it (round to the grid, then noise), and the two slow exact paths for scale: every comparison by
 * integer bounds, and the paper's Algorithm 1 transcribed with BigInt rationals.
 *
 *   npx tsx bench/noise.ts [--draws 1_000_000] [--runs 5] [--slow-draws 2_000]
 */
import { DiscreteGaussian } from '../src/privacy/discreteGaussian.js';
import { discreteGaussianReference } from '../src/privacy/discreteGaussianReference.js';
import { addDiscreteGaussianNoise, fillGaussian, GRID_STEPS_LOG2 } from '../src/privacy/gaussianNoise.js';
import { benchArgs } from './lib/args.js';
import { fillBoxMuller } from './lib/boxMuller.js';
import { median, timeRuns } from './lib/stats.js';
import { printResult } from './lib/result.js';

const args = benchArgs(['draws', 'runs', 'slow-draws'] as const);
const draws = args.number('draws', 1_000_000);
const runs = args.number('runs', 5);
const slowDraws = args.number('slow-draws', 2_000);

const out = new Float64Array(draws);
const perSecond = (seconds: number, n = draws) => n / seconds;
const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0));

// Interleaved runs, so that drift in the machine's speed hits both samplers alike.
const boxMuller: number[] = [];
const discrete: number[] = [];
const mechanism: number[] = [];
for (let r = -1; r < runs; r++) {
  const [b] = await timeRuns(0, 1, () => fillBoxMuller(out, 1));
  const [d] = await timeRuns(0, 1, () => fillGaussian(out, 1));
  out.fill(0.125);
  const [m] = await timeRuns(0, 1, () => addDiscreteGaussianNoise(out, { noiseMultiplier: 1.1, sensitivity: 1 }));
  if (r < 0) continue; // warm-up
  boxMuller.push(b!);
  discrete.push(d!);
  mechanism.push(m!);
}
const bm = perSecond(median(boxMuller));
const dg = perSecond(median(discrete));
const mech = perSecond(median(mechanism));

const exactOnly = new DiscreteGaussian(2 ** GRID_STEPS_LOG2, undefined, true);
const [exactSeconds] = await timeRuns(1, 1, () => {
  for (let i = 0; i < slowDraws; i++) exactOnly.sample();
});
const sigma2 = 2n ** BigInt(2 * GRID_STEPS_LOG2);
const [referenceSeconds] = await timeRuns(0, 1, () => {
  for (let i = 0; i < slowDraws; i++) discreteGaussianReference(sigma2, 1n);
});
const exact = perSecond(exactSeconds!, slowDraws);
const reference = perSecond(referenceSeconds!, slowDraws);

console.log(`\n## DP noise: ${draws.toLocaleString('en')} draws per run, median of ${runs} runs (node ${process.version}); sigma = 2^${GRID_STEPS_LOG2} grid steps`);
console.log(`box-muller (the former sampler, floating point): ${fmt(bm)} draws/s (peer)`);
console.log(`discrete gaussian, exact (fillGaussian): ${fmt(dg)} draws/s (target >= 0.10x box-muller, i.e. at most 10x its time per draw)`);
console.log(`discrete gaussian / box-muller: ${(dg / bm).toFixed(3)}x (target >= 0.10x)`);
console.log(`mechanism (round to the grid + noise, addDiscreteGaussianNoise): ${fmt(mech)} values/s (target >= 0.10x box-muller)`);
console.log(`noise for a 1M-parameter update: ${(1e6 / dg).toFixed(3)} s exact, ${(1e6 / bm).toFixed(3)} s box-muller`);
console.log(`discrete gaussian, every comparison by integer bounds (the fallback path): ${fmt(exact)} draws/s (${(dg / exact).toFixed(0)}x slower than the fast path; ${slowDraws} draws)`);
console.log(`discrete gaussian, CKS20 Algorithm 1 with BigInt rationals (the paper's way): ${fmt(reference)} draws/s (${(dg / reference).toFixed(0)}x slower than the fast path; ${slowDraws} draws)`);
const ok = dg / bm >= 0.1;
console.log(`verdict: exact discrete gaussian at ${(dg / bm).toFixed(3)}x box-muller -> ${ok ? 'meets' : 'MISSES'} the 0.10x target`);
console.log();
printResult('noise.discrete_gaussian_vs_box_muller', dg / bm, 'x', '>= 0.10x box-muller draws/s', ok);
printResult('noise.mechanism_vs_box_muller', mech / bm, 'x', '>= 0.10x', mech / bm >= 0.1);
