/**
 * Round time as clients grow, one process per client (issue 17: "Round time stays flat as clients grow"). For 3
 * and 10 clients (--clients), one federation each: a coordinator process, and one process per client training an
 * MLP of about 11k parameters (bench/lib/mlpModel.ts) with TfjsTrainer (wasm) on its share of the shipped
 * breast-cancer table (455 training rows split N ways; 114 test rows likewise), FedAvg, one epoch of SGD in
 * batches of 32 a round. Between each client and the coordinator, a byte-counting TCP relay (loopback), so bytes
 * are those on the socket (framing, acknowledgements, signatures included). The same shape as the disco
 * comparison (titanic, 10,857 parameters, 20 rounds, one process per client, byte-counting proxy).
 *
 * It prints the median round (rounds 2.., the first pays the processes' warm-up) and the bytes per client per
 * round on the socket, each way, against the model's encoded size (no payload twice: at most one model down and
 * one update up a round), and checks that every client's final model (what `cohort client` writes as its model
 * file) is, to the bit, the coordinator's last global. Then one line each: the round at 10 clients over the round
 * at 3 (target <= 1.5x; disco 1.5x), the round at 10 against half of disco's 0.27 s measured here, bytes down a
 * round over the model's size, and whether the final models matched.
 *
 *   npx tsx bench/perClient.ts [--clients 3,10] [--rounds 20] [--params 11_000] [--fraction-evaluate 0] [--repeats 1]
 *                              [--trainer tfjs|constant] [--profile DIR]
 *
 * --trainer constant adds a constant instead of training (no tfjs): the round is then the protocol's cost alone.
 *
 * --fraction-evaluate 0 (the default here) runs no federated evaluation, so the last global reaches the clients
 * only at the run's end: the case where a client's model file used to be one round stale. 1 evaluates every
 * client every round (the evaluate task carries the global the next fit reuses).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodedByteLength } from '../src/protocol/tensorCodec.js';
import { benchArgs } from './lib/args.js';
import { ByteCountingProxy, countBetween, type ByteCount } from './lib/byteCountingProxy.js';
import { mlpSpec } from './lib/mlpModel.js';
import { printResult } from './lib/result.js';
import { readFlat } from './lib/shiftModel.js';
import { median } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import type { RoundPhases } from './lib/phaseTimedTrainer.js';
import type { PerClientNodeConfig, PerClientNodeReport } from './perClientClient.js';
import type { PerClientCoordinatorConfig, PerClientCoordinatorReport } from './perClientCoordinator.js';

/** disco's round at 10 clients on the same shape, measured on these machines (issue 17); the target is half of it. */
const DISCO_ROUND_AT_10_S = 0.27;
const RATIO_TARGET = 1.5;

interface Federation {
  readonly clients: number;
  /** Per round after the first: the coordinator's round time (fit and evaluate phases). */
  readonly roundMs: readonly number[];
  readonly fitMs: readonly number[];
  readonly evaluateMs: readonly number[];
  /** Per round after the first, per client: bytes on its socket from the previous round's end to this one's. */
  readonly bytes: readonly (readonly ByteCount[])[];
  /** Per client: from the last round's end to the process's exit (the final model, run-end, close). */
  readonly tail: readonly ByteCount[];
  readonly runMs: number;
  readonly cpuSeconds: number;
  /** Per client: CPU seconds its process spent from joining to the run's end. */
  readonly clientCpuSeconds: readonly number[];
  /** Clients whose final model differs from the coordinator's last global (should be none). */
  readonly mismatched: readonly string[];
  /** Per round after the first: where its time went (see RoundSplit). */
  readonly splits: readonly RoundSplit[];
}

/**
 * One round's time, split by the marks each client took (bench/lib/phaseTimedTrainer.ts) against the
 * coordinator's round start and end, in milliseconds: the download (round start to the client's setWeights:
 * send, receive, verify, decode), the training (fit), the upload (getWeights to the round's end: delta, encode,
 * sign, send, and the coordinator's decode and sum), and the wait for the slowest (the round's end after the
 * median client's upload began, beyond the slowest one's).
 */
type Named = RoundPhases & { readonly name: string };

interface RoundSplit {
  readonly download: number;
  readonly lastDownload: number;
  readonly fit: number;
  readonly afterSlowest: number;
  readonly trainerCpu: number;
  /** The median client's whole CPU for the round (its process, setWeights to the next round's). */
  readonly clientCpu: number;
}

function splitRound(start: number, end: number, clients: readonly Named[], next: readonly Named[]): RoundSplit {
  const cpu = clients.flatMap((c) => next.filter((n) => n.name === c.name).map((n) => n.processCpuMs - c.processCpuMs));
  return {
    download: median(clients.map((c) => c.weightsSet - start)),
    lastDownload: Math.max(...clients.map((c) => c.weightsSet - start)),
    fit: median(clients.map((c) => c.fitEnd - c.fitStart)),
    afterSlowest: end - Math.max(...clients.map((c) => c.weightsRead)),
    trainerCpu: median(clients.map((c) => c.trainerCpuMs)),
    clientCpu: cpu.length > 0 ? median(cpu) : Number.NaN,
  };
}

/** --profile DIR: every process writes a V8 CPU profile there (open it in Chrome's devtools). */
let profileDir: string | undefined;

function forkScript(script: string, config: unknown): ChildProcess {
  const execArgv = ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  return fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(config)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function runFederation(clients: number, rounds: number, params: number, fractionEvaluate: number, trainer: 'tfjs' | 'constant', slots: number | undefined, dir: string): Promise<Federation> {
  const modelOut = join(dir, `coordinator-${clients}.f32`);
  const children: ChildProcess[] = [];
  const proxies: ByteCountingProxy[] = [];
  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const snap = () => proxies.map((p) => p.snapshot());
  try {
    const coordinator = forkScript('./perClientCoordinator.ts', { params, clients, rounds, fractionEvaluate, modelOut, ...(slots !== undefined ? { slots } : {}) } satisfies PerClientCoordinatorConfig);
    children.push(coordinator);
    let onListening: (r: Extract<PerClientCoordinatorReport, { type: 'listening' }>) => void = () => undefined;
    let onDone: (r: Extract<PerClientCoordinatorReport, { type: 'done' }>) => void = () => undefined;
    const listening = new Promise<Extract<PerClientCoordinatorReport, { type: 'listening' }>>((resolve) => (onListening = resolve));
    const done = new Promise<Extract<PerClientCoordinatorReport, { type: 'done' }>>((resolve) => (onDone = resolve));
    const completed: { round: number; endedAt: number; durationMs: number; fitMs: number; evaluateMs: number; bytes: ByteCount[] }[] = [];
    let lastEnd: ByteCount[] = [];
    let finished = false;
    coordinator.on('message', (m) => {
      const r = m as PerClientCoordinatorReport;
      if (r.type === 'listening') onListening(r);
      else if (r.type === 'round-completed') {
        const now = snap();
        completed.push({ round: r.round, endedAt: r.endedAt, durationMs: r.durationMs, fitMs: r.fitMs, evaluateMs: r.evaluateMs, bytes: now.map((b, k) => countBetween(lastEnd[k]!, b)) });
        lastEnd = now;
        if (r.failures > 0) fail(new Error(`${clients} clients, round ${r.round}: ${r.failures} task(s) failed`));
      } else if (r.type === 'done') {
        finished = true;
        onDone(r);
      } else if (r.type === 'failed') fail(new Error(`coordinator (${clients} clients): ${r.detail}`));
    });
    coordinator.once('exit', (code) => void (finished || fail(new Error(`the coordinator exited (code ${code}) before the run ended`))));
    const where = await Promise.race([listening, failed]);

    const exits = new Map<string, Extract<PerClientNodeReport, { type: 'exit' }>>();
    let welcomed = 0;
    let onJoined: () => void = () => undefined;
    let onExited: () => void = () => undefined;
    const joined = new Promise<void>((resolve) => (onJoined = resolve));
    const exited = new Promise<void>((resolve) => (onExited = resolve));
    const models = new Map<string, string>();
    for (let index = 0; index < clients; index++) {
      const proxy = await ByteCountingProxy.start({ host: '127.0.0.1', port: where.port });
      proxies.push(proxy);
      const name = `site-${index}`;
      models.set(name, join(dir, `${name}-of-${clients}.f32`));
      const child = forkScript('./perClientClient.ts', { url: proxy.url, name, index, clients, params, coordinatorKey: where.coordinatorKey, modelOut: models.get(name)!, trainer } satisfies PerClientNodeConfig);
      children.push(child);
      child.on('message', (m) => {
        const r = m as PerClientNodeReport;
        if (r.type === 'welcome' && ++welcomed === clients) onJoined();
        else if (r.type === 'problem') fail(new Error(`client ${r.name}: ${r.detail}`));
        else if (r.type === 'exit') {
          exits.set(r.name, r);
          if (exits.size === clients) onExited();
        }
      });
      child.once('exit', (code) => void (exits.has(name) || fail(new Error(`client ${name} exited (code ${code}) before the run ended`))));
    }
    await Promise.race([joined, failed]);
    lastEnd = snap();
    coordinator.send({ type: 'go' });
    const usage = await Promise.race([done, failed]);
    await Promise.race([exited, failed]);
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    const end = snap();
    const global = readFlat(modelOut);
    const mismatched = [...models].filter(([name, path]) => !exits.get(name)?.wroteModel || !sameBits(readFlat(path), global)).map(([name]) => name);
    const later = completed.filter((r) => r.round > 1);
    return {
      clients,
      roundMs: later.map((r) => r.durationMs),
      fitMs: later.map((r) => r.fitMs),
      evaluateMs: later.map((r) => r.evaluateMs),
      bytes: later.map((r) => r.bytes),
      tail: end.map((b, k) => countBetween(lastEnd[k]!, b)),
      runMs: usage.runMs,
      cpuSeconds: usage.cpuSeconds,
      clientCpuSeconds: [...exits.values()].map((e) => e.cpuSeconds),
      mismatched,
      splits: later.flatMap((r) => {
        const marks = (round: number) => [...exits.values()].flatMap((e) => e.phases.filter((p) => p.round === round).map((p) => ({ ...p, name: e.name })));
        const now = marks(r.round);
        return now.length === clients ? [splitRound(r.endedAt - r.durationMs, r.endedAt, now, marks(r.round + 1))] : [];
      }),
    };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
    await Promise.all(proxies.map((p) => p.close()));
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

const args = benchArgs(['rounds', 'params', 'fraction-evaluate', 'repeats', 'slots'], [], ['clients', 'profile', 'trainer']);
const trainer = args.text('trainer') ?? 'tfjs';
if (trainer !== 'tfjs' && trainer !== 'constant') throw new Error(`--trainer is tfjs or constant, got "${trainer}"`);
profileDir = args.text('profile');
const clientCounts = (args.text('clients') ?? '3,10').split(',').map((s) => Number(s));
if (clientCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--clients takes a comma-separated list of client counts, got "${args.text('clients')}"`);
const rounds = args.number('rounds', 20, 2);
const params = args.number('params', 11_000);
const fractionEvaluate = args.number('fraction-evaluate', 0, 0);
if (fractionEvaluate > 1) throw new Error(`--fraction-evaluate is 0 or 1, got ${fractionEvaluate}`);
const repeats = args.number('repeats', 1);
const slots = args.text('slots') === undefined ? undefined : args.number('slots', 2);
const modelBytes = encodedByteLength(mlpSpec(params).map((t) => ({ ...t, data: new Float32Array(0) })));
const parameterCount = mlpSpec(params).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
console.log(`per-client round cost: ${parameterCount.toLocaleString('en')}-parameter MLP (${modelBytes.toLocaleString('en')} bytes encoded), ${rounds} rounds, fractionEvaluate ${fractionEvaluate}, clients ${clientCounts.join(' and ')}, one process each, ${repeats} repeat(s); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

const dir = mkdtempSync(join(tmpdir(), 'cohort-per-client-'));
const results: Federation[] = [];
try {
  for (let rep = 0; rep < repeats; rep++) {
    // Alternate the order so a drift in machine load does not favour one size.
    for (const n of rep % 2 === 0 ? clientCounts : [...clientCounts].reverse()) results.push(await runFederation(n, rounds, params, fractionEvaluate, trainer, slots, dir));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const bySize = new Map<number, Federation[]>();
for (const r of results) bySize.set(r.clients, [...(bySize.get(r.clients) ?? []), r]);
const medianRound = (n: number) => median(bySize.get(n)!.flatMap((r) => r.roundMs)) / 1000;
const perClientRound = (n: number, pick: (b: ByteCount) => number) => median(bySize.get(n)!.flatMap((r) => r.bytes.flatMap((round) => round.map(pick))));
/** CPU seconds a round, every process of the federation (clients and coordinator; the relays excluded), median over runs. */
const cpuPerRound = (n: number) => median(bySize.get(n)!.map((r) => r.clientCpuSeconds.reduce((a, b) => a + b, 0) + r.cpuSeconds)) / rounds;
const rows = clientCounts.map((n) => {
  const runs = bySize.get(n)!;
  return [
    String(n),
    `${(medianRound(n) * 1000).toFixed(0)} ms`,
    `${median(runs.flatMap((r) => r.fitMs)).toFixed(0)} ms`,
    `${median(runs.flatMap((r) => r.evaluateMs)).toFixed(0)} ms`,
    `${(perClientRound(n, (b) => b.down) / 1000).toFixed(1)} kB`,
    `${(perClientRound(n, (b) => b.up) / 1000).toFixed(1)} kB`,
    `${(median(runs.flatMap((r) => r.tail.map((b) => b.down))) / 1000).toFixed(1)} kB`,
    `${(median(runs.map((r) => r.cpuSeconds / (r.runMs / 1000))) * 100).toFixed(0)} %`,
    `${((median(runs.flatMap((r) => r.clientCpuSeconds)) / rounds) * 1000).toFixed(0)} ms`,
    `${(cpuPerRound(n) * 1000).toFixed(0)} ms`,
    runs.every((r) => r.mismatched.length === 0) ? 'yes' : `NO (${runs.flatMap((r) => r.mismatched).join(', ')})`,
  ];
});
console.log(formatTable(['clients', 'round (median)', 'fit phase', 'evaluate phase', 'down/client/round', 'up/client/round', 'down at the end', 'coordinator CPU', 'CPU/client/round', 'CPU/round, all', 'final model = last global'], rows));

const phaseRows = clientCounts.map((n) => {
  const splits = bySize.get(n)!.flatMap((r) => r.splits);
  const ms = (pick: (s: RoundSplit) => number) => `${median(splits.map(pick).filter(Number.isFinite)).toFixed(1)} ms`;
  return [String(n), ms((s) => s.download), ms((s) => s.lastDownload), ms((s) => s.fit), ms((s) => s.afterSlowest), ms((s) => s.trainerCpu), ms((s) => s.clientCpu)];
});
console.log('Where a round goes (medians over rounds; per client: the median client):');
console.log(formatTable(['clients', 'download, per client', 'last download', 'fit, per client', 'end after the slowest fit', 'trainer CPU/client/round', 'process CPU/client/round'], phaseRows));

const [few, many] = [Math.min(...clientCounts), Math.max(...clientCounts)];
if (few !== many) {
  const ratio = medianRound(many) / medianRound(few);
  printResult(`perClient.round_${many}_over_${few}`, ratio, 'x', `<= ${RATIO_TARGET}x; disco 1.5x`, ratio <= RATIO_TARGET);
  // What the round costs rather than how long it waited for a core: steadier than the wall ratio on a shared machine.
  const cpuRatio = cpuPerRound(many) / cpuPerRound(few);
  printResult(`perClient.cpu_per_round_${many}_over_${few}`, cpuRatio, 'x', `<= ${RATIO_TARGET}x, the CPU all processes spend a round`, cpuRatio <= RATIO_TARGET);
}
printResult(`perClient.round_at_${many}`, medianRound(many), 's', `<= ${DISCO_ROUND_AT_10_S / 2} s, half of disco's ${DISCO_ROUND_AT_10_S} s at 10 clients`, many === 10 ? medianRound(many) <= DISCO_ROUND_AT_10_S / 2 : undefined);
const downRatio = perClientRound(many, (b) => b.down) / modelBytes;
printResult('perClient.down_per_round', downRatio, 'x the model', '<= 1.1x: one global a round, framing included, no payload twice', downRatio <= 1.1);
const matched = results.every((r) => r.mismatched.length === 0);
printResult('perClient.final_model_is_last_global', matched ? 1 : 0, `(1 = every client's, to the bit${fractionEvaluate === 0 ? ', evaluation off' : ''})`, '1', matched);
