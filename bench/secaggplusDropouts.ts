/**
 * Must-show 1 of SecAgg+, in process: 100 virtual clients (real members, real crypto, the coordinator's real
 * unmasking; no sockets), 10% dropping after the key exchange and before uploading, 30% uploading and then
 * dropping before the consistency round. Checks that the unmasked sum equals, to the bit, the sum mod 2^32 of
 * the survivors' quantized updates, and how far the dequantized mean is from the float mean.
 *
 * With 40% of the clients gone by the unmask step, every survivor's neighbourhood must keep t > k / 2 revealers:
 * the default is the complete graph (k = n - 1, the original SecAgg) with t = 50. A sparse graph (--neighbours 20)
 * loses some neighbourhood below t at this dropout rate, and the round fails cleanly, which the output says.
 *
 *   npx tsx bench/secaggplusDropouts.ts [--clients 100] [--params 100_000] [--neighbours 99] [--threshold 50]
 */
import { dequantizeSum, quantize } from '../src/crypto/secagg/quantize.js';
import { benchArgs } from './lib/args.js';
import { simulateRound } from './lib/secaggSimulation.js';

const args = benchArgs(['clients', 'params', 'neighbours', 'threshold'] as const);
const clients = args.number('clients', 100);
const params = args.number('params', 100_000);
const neighbours = args.number('neighbours', clients - 1);
const threshold = args.number('threshold', Math.floor(clients / 2));
const q = { bits: 32, range: 8, cohort: clients };

const floats = Array.from({ length: clients }, (_, c) => Float32Array.from({ length: params }, (_, i) => Math.sin(i * 0.001 + c) * 0.5));
const encoded = floats.map((f) => quantize(f, 1 / clients, q).values);
const dropBefore = new Set(Array.from({ length: Math.round(clients * 0.1) }, (_, i) => i));
const dropAfter = new Set(Array.from({ length: Math.round(clients * 0.3) }, (_, i) => dropBefore.size + i));
console.log(`\n## SecAgg+ dropouts: ${clients} clients, ${params.toLocaleString('en')} parameters, ${dropBefore.size} drop before upload, ${dropAfter.size} after`);
const started = performance.now();
try {
  const round = await simulateRound({ clients, neighbours, threshold, update: (i) => encoded[i]!, dropBeforeUpload: dropBefore, dropAfterUpload: dropAfter });
  const expected = new Uint32Array(params);
  for (const c of round.survivors) for (let i = 0; i < params; i++) expected[i] = (expected[i]! + encoded[c]![i]!) >>> 0;
  let mismatches = 0;
  for (let i = 0; i < params; i++) if (round.sum[i] !== expected[i]) mismatches++;
  const sum = dequantizeSum(round.sum, round.survivors.length, q);
  let worst = 0;
  for (let i = 0; i < params; i++) {
    let exact = 0;
    for (const c of round.survivors) exact += floats[c]![i]! / clients;
    worst = Math.max(worst, Math.abs(sum[i]! - exact));
  }
  const step = (2 * q.range) / Math.floor((2 ** 32 - 1) / clients);
  console.log(`k = ${round.degree}, t = ${round.threshold}; survivors (in the sum): ${round.survivors.length}; revealers: ${round.survivors.length - dropAfter.size}`);
  console.log(`unmasked sum vs the survivors' quantized updates summed mod 2^32: ${mismatches} of ${params.toLocaleString('en')} values differ -> ${mismatches === 0 ? 'EXACT' : 'WRONG'}`);
  console.log(`dequantized weighted sum vs the float sum: max error ${worst.toExponential(2)} (quantization step ${step.toExponential(2)}, ${(worst / step).toFixed(2)} steps; at most one step a survivor)`);
  console.log(`unmasking took ${(round.seconds.unmask * 1000).toFixed(0)} ms; the whole simulation ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = mismatches === 0 ? 0 : 1;
} catch (e) {
  console.log(`the round could not be unmasked: ${(e as Error).message}`);
  process.exitCode = 2;
}
