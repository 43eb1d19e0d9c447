/**
 * Runs the benchmarks in sequence, each in its own process so one's memory high-water mark does not
 * leak into the next one's peak RSS.
 *
 *   npm run bench                  aggregation 1M params x 100 clients; one round of 100M params x 2 clients;
 *                                  ckks rounds next to plain ones at 1M and 10M params
 *   npm run bench -- --quick       the same with a 10M-param round, and ckks next to plain at 1M params only
 *   npm run bench -- --only aggregation|roundTrip|handshake|signatures|ckks|ckksRound|noise|attacks
 *   npm run bench -- --all         also the slow ones (signatures: about 1.5 minutes)
 *   npm run bench -- --proposals   also time the prototypes of the proposed aggregation fixes
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface Bench {
  readonly name: 'aggregation' | 'roundTrip' | 'signatures' | 'handshake' | 'ckks' | 'ckksRound' | 'noise' | 'attacks';
  readonly args: readonly string[];
  /** Run only when asked for by --only or --all (too slow for the default couple of minutes). */
  readonly optIn?: boolean;
}

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, all: { type: 'boolean' }, proposals: { type: 'boolean' } }, strict: true });
const benches: Bench[] = [
  { name: 'aggregation', args: ['--params', '1_000_000', '--clients', '100', '--runs', '5', '--warmup', '1', ...(values.proposals ? ['--proposals'] : [])] },
  { name: 'roundTrip', args: ['--params', values.quick ? '10_000_000' : '100_000_000', '--clients', '2'] },
  { name: 'handshake', args: [] },
  { name: 'noise', args: [] },
  { name: 'ckksRound', args: values.quick ? ['--params', '1_000_000'] : [] },
  { name: 'signatures', args: [], optIn: true },
  { name: 'ckks', args: [], optIn: true },
  { name: 'attacks', args: [], optIn: true },
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
for (const bench of benches) {
  if (values.only !== undefined ? bench.name !== values.only : bench.optIn && !values.all) continue;
  if ((await runOne(bench)) !== 0) failed.push(bench.name);
}
console.log(`\nbenchmarks finished in ${((performance.now() - started) / 1000).toFixed(0)} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`);
process.exitCode = failed.length ? 1 : 0;
