/**
 * Runs the benchmarks in sequence, each in its own process so one's memory high-water mark does not
 * leak into the next one's peak RSS.
 *
 *   npm run bench                  aggregation 1M params x 100 clients; one round of 100M params x 2 clients;
 *                                  handshakes; DP noise; ckks rounds next to plain ones at 1M params; SecAgg+
 *                                  masks, Shamir and a 100-client round. Under 10 minutes here (it prints
 *                                  bench.wall_time against that limit)
 *   npm run bench -- --quick       the same with a 10M-param round
 *                                  One process per client at 3 and 10 clients on an 11k-parameter MLP (perClient).
 *   npm run bench -- --only aggregation|roundTrip|handshake|signatures|ckks|ckksRound|noise|ckksPhases|secaggplus|secaggplusDropouts|attacks|perClient|trainStep|compression
 *   npm run bench -- --all         also the slow ones: ckks rounds at 10M params too (about 8 minutes more when
 *                                  measured), signatures (about 1.5 minutes), ckks, ckksPhases, secaggplusDropouts, attacks, trainStep
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printResult } from './lib/result.js';

interface Bench {
  readonly name: 'aggregation' | 'roundTrip' | 'signatures' | 'handshake' | 'ckks' | 'ckksPhases' | 'ckksRound' | 'noise' | 'secaggplus' | 'secaggplusDropouts' | 'attacks' | 'perClient' | 'trainStep' | 'compression';
  readonly args: readonly string[];
  /** Run only when asked for by --only or --all (too slow for the default couple of minutes). */
  readonly optIn?: boolean;
}

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, all: { type: 'boolean' } }, strict: true });
const benches: Bench[] = [
  { name: 'aggregation', args: ['--params', '1_000_000', '--clients', '100', '--runs', '5', '--warmup', '1'] },
  { name: 'roundTrip', args: ['--params', values.quick ? '10_000_000' : '100_000_000', '--clients', '2', '--breakdown'] },
  { name: 'handshake', args: [] },
  { name: 'noise', args: [] },
  // Update compression at 1M params: a few seconds.
  { name: 'compression', args: [] },
  // The issue's measurement: a real 1M-param MLP trained in both modes (the constant trainer measures the protocol
  // alone, against a plain round that does almost nothing, so its time ratio says nothing of the 1.5x target).
  // 10M-param ckks rounds took 7.4 of the 14 minutes the set took with them: with --all only.
  { name: 'ckksRound', args: values.all ? [] : ['--params', '1_000_000', '--trainer', 'tfjs', '--repeats', '3'] },
  { name: 'signatures', args: [], optIn: true },
  { name: 'ckks', args: [], optIn: true },
  { name: 'secaggplus', args: values.quick ? ['--params', '100_000'] : [] },
  // 3 and 10 client processes, 20 rounds each: about a minute.
  { name: 'perClient', args: values.quick ? ['--rounds', '10'] : [] },
  // 100 virtual clients in one process: about a minute and a half.
  { name: 'secaggplusDropouts', args: [], optIn: true },
  { name: 'ckksPhases', args: [], optIn: true },
  { name: 'attacks', args: [], optIn: true },
  // A client's local round, batchStep against compile + trainOnBatch: about 15 seconds.
  { name: 'trainStep', args: [], optIn: true },
];
if (values.only !== undefined && !benches.some((b) => b.name === values.only)) {
  throw new Error(`--only takes one of ${benches.map((b) => b.name).join(', ')}, got "${values.only}"`);
}

function runOne(bench: Bench): Promise<number> {
  const script = fileURLToPath(new URL(`./${bench.name}.ts`, import.meta.url));
  console.log(`\n$ node --import tsx bench/${bench.name}.ts ${bench.args.join(' ')}`);
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...bench.args], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const failed: string[] = [];
const started = performance.now();
const took: string[] = [];
for (const bench of benches) {
  if (values.only !== undefined ? bench.name !== values.only : bench.optIn && !values.all) continue;
  const t0 = performance.now();
  if ((await runOne(bench)) !== 0) failed.push(bench.name);
  took.push(`${bench.name} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const seconds = (performance.now() - started) / 1000;
console.log(`\nbenchmarks finished in ${seconds.toFixed(0)} s (${took.join(', ')})${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`);
if (values.only === undefined && !values.all) printResult('bench.wall_time', seconds / 60, 'min', '< 10 min for the default set', seconds < 600);
process.exitCode = failed.length ? 1 : 0;
