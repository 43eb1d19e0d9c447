/**
 * A CKKS round next to a plain one, on the same model with the same training (ConstantStepTrainer: adds a
 * constant, so training costs ~nothing and the round measures the protocol). For each model size, one
 * federation per mode, run one after the other in this process's run (interleaved plain/ckks, ckks/plain
 * with --repeats), each with:
 *   - the coordinator in its own process (its peak RSS is its own: getrusage maxRSS there), and `clients`
 *     client processes;
 *   - a byte-counting TCP proxy (loopback, in this process) between each client and the coordinator, so the
 *     bytes are those on the socket: HTTP upgrade, WebSocket and socket.io framing, chunk acknowledgements,
 *     the handshake, the CKKS key setup (deal, key boxes) and payloads, both directions (not TCP/IP headers);
 *   - a check that the run is right: the plain model every client ends with (and the coordinator's) is the
 *     exact FedAvg result, and the CKKS model every client decrypts is within 1e-6 of the plain one.
 * It prints, one per line, ckks/plain ratios against the targets of the issue "Secure aggregation that
 * holds" (bytes per client per round <= 4.1x, round time <= 1.5x, both for a 1M-parameter model) and the
 * coordinator's peak RSS as a multiple of the model (one float32 copy).
 *
 *   npx tsx bench/ckksRound.ts [--params 1_000_000,10_000_000] [--clients 2] [--rounds 3] [--repeats 1]
 *                              [--train-ms 0] [--trainer constant|tfjs] [--examples 100] [--ckks-threads N]
 *                              [--no-proxy] [--chunk-bytes 1048576] [--round-timeout-ms 600000]
 *
 * --train-ms N makes each fit spin the CPU for N ms first (a stand-in for real training, same in both modes);
 * --trainer tfjs trains a real MLP of about --params parameters (bench/lib/mlpModel.ts, TfjsTrainer on the wasm
 * backend, one epoch of SGD over --examples synthetic rows per client, batches of 32): the check is then that
 * every client ends with the coordinator's model (plain) or with the other clients' (ckks), and the final CKKS
 * model's distance to the plain one is printed; --ckks-threads N sets the clients' ckksThreads (default: theirs,
 * one per core but one); --no-proxy connects clients straight to the coordinator (no byte counts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_CHUNK_BYTES } from '../src/protocol/peer.js';
import { ByteCountingProxy, countBetween, type ByteCount } from './lib/byteCountingProxy.js';
import { isMain } from './lib/isMain.js';
import { EXAMPLES_PER_CLIENT, stepOf } from './lib/shiftModel.js';
import { cpuPerRound, meanCpu } from './lib/roundCpu.js';
import { cpuSeconds } from './lib/rss.js';
import { median } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import type { ClientConfig, ClientReport } from './ckksRoundClient.js';
import type { CoordinatorConfig, CoordinatorReport } from './ckksRoundCoordinator.js';
import { checkModels, checkTrainedModels } from './lib/roundChecks.js';
import { printPhases } from './lib/roundPhases.js';
import { steadyRounds, type FederationResult, type Mode, type RoundData, type TimedMark } from './lib/roundTypes.js';


export interface CkksRoundOptions {
  readonly params: readonly number[];
  readonly clients: number;
  readonly rounds: number;
  /** Federations per mode and size; the order alternates (plain, ckks), (ckks, plain), ... */
  readonly repeats: number;
  readonly chunkBytes: number;
  readonly roundTimeoutMs: number;
  /** CPU-bound time each client's fit spends "training" (default 0: the round measures the protocol alone). */
  readonly trainMs: number;
  /** Count bytes on the socket (a relay per client); false connects clients directly, to time without the relay's copies. */
  readonly proxy: boolean;
  readonly trainer: 'constant' | 'tfjs';
  /** Training rows per client (tfjs) or the example count each client claims (constant). */
  readonly examples: number;
  /** The clients' ckksThreads; undefined: the node's default. */
  readonly ckksThreads?: number;
}

/** Targets of the issue "Secure aggregation that holds" (must-show 3), set for a 1M-parameter model. */
const BYTES_TARGET = 4.1;
const TIME_TARGET = 1.5;

const sumCounts = (xs: readonly ByteCount[]): number => xs.reduce((s, x) => s + x.up + x.down, 0);
const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const fmtMB = (bytes: number): string => (Math.abs(bytes) < 1e5 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`);
const fmtX = (x: number): string => `${x.toFixed(2)}x`;
const sizeLabel = (params: number): string => (params % 1_000_000 === 0 ? `${params / 1_000_000}M` : params.toLocaleString('en'));

function forkScript(script: string, config: unknown): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return fork(path, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Runs one federation (one mode, one size) to its end and checks its result. */
async function runFederation(o: CkksRoundOptions, mode: Mode, params: number, dir: string): Promise<FederationResult> {
  const coordinatorConfig: CoordinatorConfig = {
    mode,
    params,
    clients: o.clients,
    rounds: o.rounds,
    chunkBytes: o.chunkBytes,
    roundTimeoutMs: o.roundTimeoutMs,
    modelOut: join(dir, `${mode}-coordinator.f32`),
    trainer: o.trainer,
  };
  const children: ChildProcess[] = [];
  const proxies: ByteCountingProxy[] = [];
  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const snap = () => proxies.map((p) => p.snapshot());
  try {
    // Coordinator process.
    const coordinator = forkScript('./ckksRoundCoordinator.ts', coordinatorConfig);
    children.push(coordinator);
    const coordinatorReports: CoordinatorReport[] = [];
    let onListening: (r: Extract<CoordinatorReport, { type: 'listening' }>) => void = () => undefined;
    let onDone: (r: Extract<CoordinatorReport, { type: 'done' }>) => void = () => undefined;
    const listening = new Promise<Extract<CoordinatorReport, { type: 'listening' }>>((resolve) => (onListening = resolve));
    const done = new Promise<Extract<CoordinatorReport, { type: 'done' }>>((resolve) => (onDone = resolve));
    const rounds: RoundData[] = [];
    const started = new Map<number, { at: number; bytes: ByteCount[] }>();
    let lastEnd: ByteCount[] = [];
    let goBytes: ByteCount[] = [];
    coordinator.on('message', (m) => {
      const r = m as CoordinatorReport;
      coordinatorReports.push(r);
      if (r.type === 'listening') onListening(r);
      else if (r.type === 'round-started') {
        if (!started.has(r.round)) started.set(r.round, { at: r.at, bytes: snap() });
      } else if (r.type === 'round-completed') {
        const now = snap();
        rounds.push({
          round: r.round,
          startedAt: started.get(r.round)?.at ?? NaN,
          completedAt: r.at,
          durationMs: r.durationMs,
          fitMs: r.fitMs,
          evaluateMs: r.evaluateMs,
          attempts: r.attempts,
          coordinatorCpu: r.cpu,
          proxyCpu: cpuSeconds(),
          sum: r.sum,
          payloadIn: r.payloadIn,
          payloadOut: r.payloadOut,
          bytes: now.map((b, k) => countBetween(lastEnd[k]!, b)),
        });
        lastEnd = now;
        if (r.failures.length > 0) fail(new Error(`${mode} round ${r.round}: ${r.failures.join('; ')}`));
      } else if (r.type === 'done') onDone(r);
      else if (r.type === 'failed') fail(new Error(`${mode} coordinator: ${r.detail}`));
    });
    coordinator.once('exit', (code, signal) => {
      if (!coordinatorReports.some((r) => r.type === 'done')) fail(new Error(`${mode} coordinator exited (code ${code}, signal ${signal}) before the run ended`));
    });
    const where = await Promise.race([listening, failed]);

    // One proxy and one client process per client.
    const marks: TimedMark[] = [];
    const exits = new Map<string, Extract<ClientReport, { type: 'exit' }>>();
    let welcomed = 0;
    let onJoined: () => void = () => undefined;
    let onExited: () => void = () => undefined;
    const joined = new Promise<void>((resolve) => (onJoined = resolve));
    const exited = new Promise<void>((resolve) => (onExited = resolve));
    const clientModels: string[] = [];
    for (let k = 0; k < o.clients; k++) {
      const proxy = o.proxy ? await ByteCountingProxy.start({ host: '127.0.0.1', port: where.port }) : undefined;
      if (proxy) proxies.push(proxy);
      const name = `bench-${k}`;
      const modelOut = join(dir, `${mode}-${name}.f32`);
      clientModels.push(modelOut);
      const url = proxy?.url ?? `http://127.0.0.1:${where.port}`;
      const config: ClientConfig = {
        url,
        name,
        params,
        step: stepOf(k),
        examples: o.examples,
        chunkBytes: o.chunkBytes,
        coordinatorKey: where.coordinatorKey,
        modelOut,
        trainMs: o.trainMs,
        trainer: o.trainer,
        index: k,
        ...(o.ckksThreads !== undefined ? { ckksThreads: o.ckksThreads } : {}),
      };
      const child = forkScript('./ckksRoundClient.ts', config);
      children.push(child);
      child.on('message', (m) => {
        const r = m as ClientReport;
        if (r.type === 'welcome' && ++welcomed === o.clients) onJoined();
        else if (r.type === 'mark') marks.push({ name: r.name, mark: r.mark, at: r.at, cpu: r.cpu, ...(r.bytes !== undefined ? { bytes: r.bytes } : {}), ...(r.masked !== undefined ? { masked: r.masked } : {}) });
        else if (r.type === 'problem') fail(new Error(`${mode} client ${r.name}: ${r.detail}`));
        else if (r.type === 'exit') {
          exits.set(r.name, r);
          if (exits.size === o.clients) onExited();
        }
      });
      child.once('exit', (code, signal) => {
        if (!exits.has(name)) fail(new Error(`${mode} client ${name} exited (code ${code}, signal ${signal}) before the run ended`));
      });
    }
    await Promise.race([joined, failed]);

    // Every client joined: start the rounds.
    goBytes = snap();
    lastEnd = goBytes;
    coordinator.send({ type: 'go' });
    const usage = await Promise.race([done, failed]);
    await Promise.race([exited, failed]);
    // Let the last bytes (run-end, close frames) drain through the proxies.
    await Promise.race([Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r))))), new Promise((r) => setTimeout(r, 5_000))]);
    const end = snap();
    for (const [name, e] of exits) if (!e.wroteModel || e.reason.startsWith('failed')) throw new Error(`${mode} client ${name} ended without a model: ${e.reason}`);

    const first = started.get(1)?.bytes ?? goBytes;
    const check = o.trainer === 'tfjs' ? checkTrainedModels(mode, params, clientModels, coordinatorConfig.modelOut) : checkModels(mode, params, o, clientModels, coordinatorConfig.modelOut);
    return {
      mode,
      params,
      rounds,
      connectBytes: goBytes,
      setupBytes: first.map((b, k) => countBetween(goBytes[k]!, b)),
      teardownBytes: end.map((b, k) => countBetween(lastEnd[k]!, b)),
      totalBytes: end,
      connections: proxies.reduce((s, p) => s + p.connections, 0),
      coordinator: { rssStart: where.rssStart, rssWithModel: where.rssWithModel, maxRss: usage.maxRss, cpuSeconds: usage.cpuSeconds, runMs: usage.runMs, ...(usage.encryptedModelBytes !== undefined ? { encryptedModelBytes: usage.encryptedModelBytes } : {}) },
      clientMaxRss: [...exits.values()].map((e) => e.maxRss),
      marks,
      check,
    };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
    await Promise.all(proxies.map((p) => p.close()));
  }
}

const roundBytesPerClient = (rounds: readonly RoundData[]) => mean(rounds.map((r) => sumCounts(r.bytes) / r.bytes.length));

function printFederation(r: FederationResult, o: CkksRoundOptions): void {
  const c = o.clients;
  const perClient = (xs: readonly ByteCount[]) => sumCounts(xs) / xs.length;
  const upDown = (xs: readonly ByteCount[]) => `${fmtMB(xs.reduce((s, x) => s + x.up, 0) / xs.length)} up, ${fmtMB(xs.reduce((s, x) => s + x.down, 0) / xs.length)} down`;
  const bytes = (xs: readonly ByteCount[]) => (o.proxy ? [fmtMB(perClient(xs)), upDown(xs)] : ['not counted (--no-proxy)', '-']);
  const rows: string[][] = [
    ['connect + handshake', ...bytes(r.connectBytes), '-'],
    [r.mode === 'ckks' ? 'key setup (deal, key boxes)' : 'run start (no key setup)', ...bytes(r.setupBytes), '-'],
    ...r.rounds.map((x) => [`round ${x.round}${x.round === 1 && r.mode === 'ckks' ? ' (global down in plaintext)' : ''}`, ...bytes(x.bytes), `${(x.durationMs / 1000).toFixed(2)} s`]),
    ['run end + close', ...bytes(r.teardownBytes), '-'],
    [
      'all, per round',
      ...(o.proxy ? [fmtMB(perClient(r.totalBytes) / r.rounds.length), upDown(r.totalBytes.map((b) => ({ up: b.up / r.rounds.length, down: b.down / r.rounds.length })))] : bytes([])),
      `${(r.coordinator.runMs / 1000 / r.rounds.length).toFixed(2)} s`,
    ],
  ];
  console.log(`\n### ${r.mode}, ${r.params.toLocaleString('en')} params, ${c} clients, ${r.rounds.length} rounds (fit + evaluate each)`);
  console.log(formatTable(['segment', 'socket bytes per client', 'split', 'round time'], rows));
  const steady = steadyRounds(r);
  const payload = mean(steady.map((x) => (x.payloadIn + x.payloadOut) / c));
  if (o.proxy) {
    const onSocket = roundBytesPerClient(steady);
    console.log(
      `steady-state round: ${fmtMB(onSocket)} per client on the socket, of which ${fmtMB(payload)} payload chunks as the coordinator counts them ` +
        `(+${fmtMB(onSocket - payload)} framing and messages, ${((onSocket / payload - 1) * 100).toFixed(2)} %); ${(onSocket / r.params).toFixed(2)} bytes per parameter per client`,
    );
  } else {
    console.log(`steady-state round: ${fmtMB(payload)} payload chunks per client as the coordinator counts them (socket bytes not counted: --no-proxy)`);
  }
  const encryptedUpload = r.marks.find((m) => m.mark === 'encrypt-end')?.bytes;
  if (encryptedUpload !== undefined) {
    const global = r.coordinator.encryptedModelBytes ?? NaN;
    console.log(
      `ciphertexts: an upload ${fmtMB(encryptedUpload)} (${(encryptedUpload / r.params).toFixed(1)} bytes a value), the encrypted global ${fmtMB(global)} ` +
        `(${(global / r.params).toFixed(1)} bytes a value); each client downloads each global once (evaluate, then reused for the next fit)`,
    );
  }
  if (r.mode === 'ckks') {
    const ends = r.marks.filter((m) => m.mark === 'encrypt-end');
    const ciphertexts = Math.ceil(r.params / 4096);
    console.log(`uploads' ciphertexts encrypted on masks made during training, per upload in order: ${ends.map((m) => `${m.masked ?? 0}/${ciphertexts}`).join(', ')}`);
    const sumMs = mean(steady.map((x) => x.sum.addMs));
    const serMs = mean(steady.map((x) => x.sum.serializeMs));
    console.log(`coordinator CKKS sum per steady-state round: ${(sumMs / 1000).toFixed(2)} s loading + adding ${c} uploads, ${(serMs / 1000).toFixed(2)} s serializing the sum`);
  }
  const model = 4 * r.params;
  const cr = r.coordinator;
  console.log(
    `coordinator: peak RSS ${fmtMB(cr.maxRss)} = ${fmtX(cr.maxRss / model)} model (${fmtMB(model)} float32); at start ${fmtMB(cr.rssStart)}, with the initial model ${fmtMB(cr.rssWithModel)}; ` +
      `peak above start ${fmtX((cr.maxRss - cr.rssStart) / model)} model; CPU ${cr.cpuSeconds.toFixed(1)} s over ${(cr.runMs / 1000).toFixed(1)} s`,
  );
  console.log(`clients: peak RSS ${r.clientMaxRss.map(fmtMB).join(', ')}${o.proxy ? `; ${r.connections} TCP connections in all` : ''}`);
  const cpu = federationCpu(r, o);
  if (cpu) {
    console.log(
      `CPU per round after the first (all threads of each process): clients ${cpu.clients.map((x) => `${x.toFixed(2)} s`).join(', ')}, coordinator ${cpu.coordinator.toFixed(2)} s` +
        `${o.proxy ? `, byte-counting proxies ${cpu.proxies.toFixed(2)} s` : ''}; all ${cpu.total.toFixed(2)} s`,
    );
  }
  console.log(`result check: ${r.check.detail}`);
}

/** Mean CPU per process over the rounds after the first. */
function federationCpu(r: FederationResult, o: CkksRoundOptions) {
  const names = Array.from({ length: o.clients }, (_, k) => `bench-${k}`);
  return meanCpu(cpuPerRound(r.rounds, r.marks, names));
}

interface Ratios {
  readonly steadyTime: number;
  readonly firstTime: number;
  readonly runTime: number;
  readonly allBytes: number;
  readonly steadyBytes: number;
  /** CPU per round after the first, all processes; and the clients' alone. */
  readonly cpuAll: number;
  readonly cpuClients: number;
}

function ratiosOf(plain: FederationResult, ckks: FederationResult, o: CkksRoundOptions): Ratios {
  const [pc, kc] = [federationCpu(plain, o), federationCpu(ckks, o)];
  const clientsCpu = (c: typeof pc) => (c ? c.clients.reduce((a, b) => a + b, 0) : NaN);
  const steadyMs = (r: FederationResult) => median(steadyRounds(r).map((x) => x.durationMs));
  const perRound = (r: FederationResult) => sumCounts(r.totalBytes) / r.totalBytes.length / r.rounds.length;
  return {
    steadyTime: steadyMs(ckks) / steadyMs(plain),
    firstTime: ckks.rounds[0]!.durationMs / plain.rounds[0]!.durationMs,
    runTime: ckks.coordinator.runMs / plain.coordinator.runMs,
    allBytes: perRound(ckks) / perRound(plain),
    steadyBytes: roundBytesPerClient(steadyRounds(ckks)) / roundBytesPerClient(steadyRounds(plain)),
    cpuAll: (kc?.total ?? NaN) / (pc?.total ?? NaN),
    cpuClients: clientsCpu(kc) / clientsCpu(pc),
  };
}

export async function benchCkksRound(o: CkksRoundOptions): Promise<void> {
  console.log(`\n## CKKS round next to plain: ${o.params.map(sizeLabel).join(' and ')} params, ${o.clients} client processes, ${o.rounds} rounds, ${o.repeats} federation(s) per mode and size`);
  console.log(
    `node ${process.version}; coordinator and each client in its own process${o.proxy ? '; a byte-counting TCP proxy per client on loopback' : ''}; ${o.chunkBytes}-byte chunks; ` +
      `FedAvg, every client fits and evaluates every round; training = ${o.trainer === 'tfjs' ? `TfjsTrainer (wasm), an MLP, one epoch over ${o.examples} rows, batches of 32` : 'add a constant'}${o.trainMs ? ` after ${o.trainMs} ms of CPU spin` : ''}` +
        `; clients' ckksThreads ${o.ckksThreads ?? 'default (one per core but one, 1 to 8)'} on ${availableParallelism()} cores${o.proxy ? '' : '; --no-proxy: bytes not counted'}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'cohort-ckks-round-'));
  const lines: string[] = [];
  const started = performance.now();
  try {
    for (const params of o.params) {
      const byMode: Record<Mode, FederationResult[]> = { plain: [], ckks: [] };
      for (let rep = 0; rep < o.repeats; rep++) {
        const order: Mode[] = rep % 2 === 0 ? ['plain', 'ckks'] : ['ckks', 'plain'];
        for (const mode of order) {
          const t0 = performance.now();
          const result = await runFederation(o, mode, params, dir);
          byMode[mode].push(result);
          printFederation(result, o);
          console.log(`(federation took ${((performance.now() - t0) / 1000).toFixed(1)} s wall, processes' start-up included)`);
        }
      }
      printPhases(byMode.plain[0]!, byMode.ckks[0]!, o);
      const ratios = byMode.plain.map((p, i) => ratiosOf(p, byMode.ckks[i]!, o));
      const pick = (f: (r: Ratios) => number) => median(ratios.map(f));
      const reps = o.repeats > 1 ? ` (median of ${o.repeats} interleaved pairs: ${ratios.map((r) => fmtX(r.steadyTime)).join(', ')})` : '';
      const label = sizeLabel(params);
      const target = (t: number) => (params === 1_000_000 ? `target <= ${t}x` : `target <= ${t}x is set for 1M params`);
      const steadyNames = steadyRounds(byMode.ckks[0]!).map((r) => r.round);
      const steadyText = steadyNames.length === 1 ? `round ${steadyNames[0]}` : `rounds ${steadyNames[0]}-${steadyNames[steadyNames.length - 1]}`;
      lines.push(`ckks/plain round time, ${label} params: ${fmtX(pick((r) => r.steadyTime))} (${target(TIME_TARGET)}; median steady-state round, ${steadyText})${reps}`);
      const cpuReps = o.repeats > 1 ? ` (pairs: ${ratios.map((r) => fmtX(r.cpuAll)).join(', ')})` : '';
      lines.push(`ckks/plain CPU per round after the first, ${label} params: ${fmtX(pick((r) => r.cpuAll))} all processes${o.proxy ? ' (the proxies included)' : ''}${cpuReps}, ${fmtX(pick((r) => r.cpuClients))} the clients alone (no target: what a round costs, robust to other load where time is not)`);
      lines.push(`ckks/plain round time, round 1 with key setup, ${label} params: ${fmtX(pick((r) => r.firstTime))} (${target(TIME_TARGET)})`);
      lines.push(`ckks/plain run time, ${o.rounds} rounds, ${label} params: ${fmtX(pick((r) => r.runTime))} (${target(TIME_TARGET)})`);
      if (o.proxy) {
        lines.push(`ckks/plain bytes per client per round, ${label} params: ${fmtX(pick((r) => r.allBytes))} (${target(BYTES_TARGET)}; all socket bytes of the run incl. connect, handshake, key setup / ${o.rounds} rounds)`);
        lines.push(`ckks/plain bytes per client per round, steady state, ${label} params: ${fmtX(pick((r) => r.steadyBytes))} (${target(BYTES_TARGET)}; ${steadyText})`);
      }
      for (const mode of ['plain', 'ckks'] as const) {
        const peaks = byMode[mode].map((r) => r.coordinator.maxRss / (4 * params));
        const above = byMode[mode].map((r) => (r.coordinator.maxRss - r.coordinator.rssStart) / (4 * params));
        lines.push(`coordinator peak RSS, ${mode} ${label} params: ${fmtX(median(peaks))} model (no target; above the process's start-up RSS: ${fmtX(median(above))} model)`);
      }
    }
    console.log(`\n## Ratios (finished in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
    for (const line of lines) console.log(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      params: { type: 'string' },
      clients: { type: 'string' },
      rounds: { type: 'string' },
      repeats: { type: 'string' },
      'chunk-bytes': { type: 'string' },
      'round-timeout-ms': { type: 'string' },
      'train-ms': { type: 'string' },
      'no-proxy': { type: 'boolean' },
      trainer: { type: 'string' },
      examples: { type: 'string' },
      'ckks-threads': { type: 'string' },
    },
    strict: true,
  });
  const int = (name: string, text: string | undefined, fallback: number, min = 1) => {
    if (text === undefined) return fallback;
    const n = Number(text.replaceAll('_', ''));
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${text}"`);
    return n;
  };
  const trainer = values.trainer ?? 'constant';
  if (trainer !== 'constant' && trainer !== 'tfjs') throw new Error(`--trainer must be constant or tfjs, got "${trainer}"`);
  const params = (values.params ?? '1_000_000,10_000_000').split(',').map((p) => int('params', p.trim(), 0, 2_000));
  await benchCkksRound({
    params,
    clients: int('clients', values.clients, 2),
    rounds: int('rounds', values.rounds, 3),
    repeats: int('repeats', values.repeats, 1),
    chunkBytes: int('chunk-bytes', values['chunk-bytes'], DEFAULT_CHUNK_BYTES, 16),
    roundTimeoutMs: int('round-timeout-ms', values['round-timeout-ms'], 600_000),
    trainMs: int('train-ms', values['train-ms'], 0, 0),
    proxy: !values['no-proxy'],
    trainer,
    examples: int('examples', values.examples, trainer === 'tfjs' ? 512 : EXAMPLES_PER_CLIENT),
    ...(values['ckks-threads'] !== undefined ? { ckksThreads: int('ckks-threads', values['ckks-threads'], 0, 0) } : {}),
  });
}
