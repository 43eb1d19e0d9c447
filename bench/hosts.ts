/**
 * A simulation across `cohort host` processes on loopback: 10,000 virtual clients (MNIST split IID, softmax
 * regression, 7,850 parameters), 1 % of them per round, run by 1, 2 and 4 hosts against one coordinator
 * process. Prints each run's round times, the coordinator's and the hosts' peak RSS, and whether every run
 * (and, with --single, `cohort simulate` in one process) ends with the same model.
 *
 *   npm run build && node --import tsx bench/hosts.ts [--clients 10_000] [--hosts 1,2,4] [--rounds 3] [--rows 60_000] [--single]
 *
 * Hosts run from dist/ (as deployed); the coordinator from the sources, in its own process. Round 1 includes
 * waiting for every client to join (the cohort is sampled from all of them), so it is printed apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { generateIdentity } from '../src/crypto/identity.js';
import { writeSecretKeyFile } from '../src/crypto/keyFile.js';
import { benchArgs } from './lib/args.js';
import { printResult } from './lib/result.js';
import { median } from './lib/stats.js';

const args = benchArgs(['clients', 'rounds', 'rows', 'progress'], ['single'], ['hosts']);
const clients = args.number('clients', 10_000);
const rounds = args.number('rounds', 3);
const rows = args.number('rows', 60_000);
// `--hosts 0` runs no host process (with --single: the single-process run alone, to compare with an earlier run's model).
const hostCounts = (args.text('hosts') ?? '1,2,4').split(',').map(Number).filter((n) => n > 0);
const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');
if (!existsSync(cli)) throw new Error('build first (npm run build): the hosts run dist/cli/main.js');

const data = join(tmpdir(), `cohort-bench-mnist-${rows}.csv`);
if (!existsSync(data)) await exited(spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/mnist-cnn/write-csv.ts'), '--rows', String(rows), '--out', data], { stdio: 'inherit' }));

/** Peak RSS (VmHWM) of a child, polled until it exits: the kernel keeps the high-water mark. */
function watchPeak(child: ChildProcess): { peak: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
    } catch {
      // exited between two polls
    }
  }, 250);
  child.on('exit', () => clearInterval(timer));
  return { peak: () => peak };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => child.on('close', (code) => r(code)));
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
}

interface Outcome {
  readonly weights: string;
  readonly rounds: number[];
  readonly startRssBytes: number;
  readonly peakRssBytes: number;
}

function experimentDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-bench-hosts-'));
  writeSecretKeyFile(join(dir, 'hosts.key'), generateIdentity());
  writeFileSync(
    join(dir, 'experiment.yaml'),
    stringify({
      name: 'hosts-bench',
      seed: 42,
      rounds,
      backend: 'wasm',
      logLevel: 'error',
      model: { type: 'mlp', hidden: [], outputs: 10, inputs: 784 },
      training: { epochs: 1, batchSize: 10, learningRate: 0.05, optimizer: 'sgd' },
      strategy: { fractionFit: 0.01, fractionEvaluate: 0.01, minFitClients: Math.ceil(clients / 100), minAvailableClients: clients },
      // Pixels are in [0, 1] already.
      standardization: 'none',
      dataDefaults: { path: data, label: 'label', testFraction: 0.2, seed: 7 },
      partition: { type: 'iid', clients },
      access: { mode: 'virtual-clients', key: 'hosts.key' },
      // Joining is most of round 1; one process hosting every client joins them slowest (about 10 a second quiet).
      coordinator: { port: 0, waitForClientsSeconds: Math.max(1200, Math.ceil(clients * 0.36)), roundTimeoutSeconds: 600 },
      store: { path: 'run.db' },
      simulation: { workers: 0 },
      centralBaseline: false,
    }),
  );
  return dir;
}

async function runCoordinatorProcess(dir: string, simulate: boolean, onListening: (url: string, key: string) => void): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/hostsCoordinator.ts'), join(dir, 'experiment.yaml'), ...(simulate ? ['--simulate'] : [])], { cwd: root });
  let key = '';
  let outcome: Outcome | undefined;
  lines(child, (line) => {
    key = /fresh key for this run, (\S+)/.exec(line)?.[1] ?? key;
    const url = /listening on (http:\/\/\S+?);/.exec(line)?.[1];
    if (url && !simulate) onListening(url, key);
    if (line.startsWith('{')) outcome = JSON.parse(line) as Outcome;
    else if (/^round \d/.test(line)) console.log(`  ${line}`);
  });
  const code = await exited(child);
  if (code !== 0 || !outcome) throw new Error(`the coordinator process exited with ${code}`);
  return outcome;
}

async function runHosts(count: number): Promise<{ outcome: Outcome; hostPeaks: number[] }> {
  const dir = experimentDir();
  const hosts: { child: ChildProcess; peak: () => number; done: Promise<number | null> }[] = [];
  const coordinated = runCoordinatorProcess(dir, false, (url, key) => {
    for (let k = 1; k <= count; k++) {
      const child = spawn(process.execPath, [cli, 'host', '--config', join(dir, 'experiment.yaml'), '--part', `${k}/${count}`, '--url', url, '--coordinator-key', key, '--workers', '0', '--progress', String(args.number('progress', 30))], { cwd: root });
      lines(child, (line) => console.log(`  ${line}`));
      hosts.push({ child, ...watchPeak(child), done: exited(child) });
    }
  });
  // A coordinator that fails (clients that never all joined) leaves the hosts waiting: stop them.
  const outcome = await coordinated.catch((e: unknown) => {
    hosts.forEach((h) => h.child.kill());
    throw e;
  });
  const codes = await Promise.all(hosts.map((h) => h.done));
  if (codes.some((c) => c !== 0)) throw new Error(`host exit codes ${codes.join(', ')}`);
  return { outcome, hostPeaks: hosts.map((h) => h.peak()) };
}

const mb = (bytes: number) => bytes / 2 ** 20;
const models = new Map<string, string>();
for (const count of hostCounts) {
  console.log(`\n${clients} virtual clients on ${count} host process(es), ${rounds} rounds, ${clients / 100} clients a round`);
  const started = performance.now();
  const { outcome, hostPeaks } = await runHosts(count);
  const later = outcome.rounds.slice(1);
  console.log(`  wall ${((performance.now() - started) / 1000).toFixed(1)} s; join + round 1 ${outcome.rounds[0]!.toFixed(1)} s; later rounds ${later.map((r) => r.toFixed(2)).join(', ')} s`);
  console.log(`  coordinator RSS ${mb(outcome.startRssBytes).toFixed(0)} MB listening, peak ${mb(outcome.peakRssBytes).toFixed(0)} MB; host peaks ${hostPeaks.map((p) => mb(p).toFixed(0)).join(', ')} MB; model ${outcome.weights.slice(0, 16)}`);
  models.set(`${count} hosts`, outcome.weights);
  printResult(`hosts.roundSeconds.${count}`, median(later.length ? later : outcome.rounds), 's', 'none: measured, median of rounds after the first');
  printResult(`hosts.joinAndFirstRoundSeconds.${count}`, outcome.rounds[0]!, 's', 'none: measured');
  printResult(`hosts.coordinatorPeakRss.${count}`, mb(outcome.peakRssBytes), 'MB', `none: measured, ${mb(outcome.startRssBytes).toFixed(0)} MB before any client`);
  printResult(`hosts.hostPeakRss.${count}`, Math.max(...hostPeaks) / 2 ** 20, 'MB', 'none: measured, the largest host');
}
if (args.flag('single')) {
  console.log(`\n${clients} virtual clients in one process (cohort simulate)`);
  const outcome = await runCoordinatorProcess(experimentDir(), true, () => undefined);
  console.log(`  join + round 1 ${outcome.rounds[0]!.toFixed(1)} s; later rounds ${outcome.rounds.slice(1).map((r) => r.toFixed(2)).join(', ')} s; peak RSS ${mb(outcome.peakRssBytes).toFixed(0)} MB; model ${outcome.weights.slice(0, 16)}`);
  models.set('single process', outcome.weights);
}
const distinct = new Set(models.values());
console.log(`\nmodels: ${[...models].map(([k, v]) => `${k} ${v.slice(0, 16)}`).join(', ')}`);
printResult('hosts.distinctModels', distinct.size, 'model(s)', `1: ${[...models.keys()].join(', ')} end with the same weights`, distinct.size === 1);
