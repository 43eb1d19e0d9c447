/**
 * One FedAvg round of a big model over loopback: a real Coordinator in this process, each client node
 * forked as its own process (so this process's RSS is the coordinator's alone). Each client's "training"
 * adds a known step, so the new global model is checked value by value.
 *
 *   npx tsx bench/roundTrip.ts [--params 100_000_000] [--clients 2] [--rounds 1] [--no-evaluate]
 *                              [--chunk-bytes 1048576] [--window 4] [--ack-timeout-ms 60000] [--round-timeout-ms 600000]
 *                              [--client-cpu-prof DIR] [--breakdown] [--accumulator fixed-point|double-double] [--slots 2]
 *                              [--staging memory|file] [--sum-at arrival|close]
 *
 * --rounds N runs N rounds: the first pays for touching fresh memory on every side, the last shows a steady state.
 * --breakdown profiles the coordinator (the inspector's CPU profiler, during run()) and the clients
 * (from joining the run to exit, start-up left out) and prints where each side's CPU time went: encode, hash,
 * socket, decode, stage + sum, apply.
 * Every run ends with one line per step of the first round's wall clock (`roundTrip.wall.*`), and with
 * --breakdown one line per stage's CPU seconds, coordinator and clients together (`roundTrip.cpu.*`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Coordinator } from '../src/coordinator/coordinator.js';
import type { RoundRecord } from '../src/coordinator/roundRecord.js';
import { StreamingMean } from '../src/coordinator/aggregation/streamingMean.js';
import { FedAvg } from '../src/coordinator/strategies/fedAvg.js';
import { DEFAULT_CHUNK_BYTES, defaultPeerOptions } from '../src/protocol/peer.js';
import { encodedByteLength } from '../src/protocol/tensorCodec.js';
import { sizeOfShape, type Weights } from '../src/protocol/tensors.js';
import { benchArgs } from './lib/args.js';
import { STAGES, breakdown, type CpuProfile, type Stage } from './lib/cpuBreakdown.js';
import { epochMs } from './lib/constantStepTrainer.js';
import { isMain } from './lib/isMain.js';
import { benchSpec } from './lib/modelSpec.js';
import { printResult } from './lib/result.js';
import { RssSampler, maxRssBytes } from './lib/rss.js';
import { formatTable, mb } from './lib/table.js';
import type { ClientConfig, ClientReport } from './roundTripClient.js';

export interface RoundTripOptions {
  readonly params: number;
  readonly clients: number;
  /** Rounds in the run (1 by default); the check follows every round's float32 arithmetic. */
  readonly rounds?: number;
  /** Run the evaluation phase too (the weights go down once more to every client). */
  readonly evaluate: boolean;
  readonly chunkBytes: number;
  /** Chunks in flight per stream (PeerOptions.window), both directions. */
  readonly window: number;
  readonly ackTimeoutMs: number;
  readonly roundTimeoutMs: number;
  /** Writes each client's V8 CPU profile here, from joining to exit (profile the coordinator with `node --cpu-prof` itself). */
  readonly clientProfileDir?: string;
  /** Profile both sides and print where the CPU time went, by stage. */
  readonly breakdown?: boolean;
  /** The coordinator's sum (StreamingMean's `accumulator`; double-double was the only one before issue 17), and its staging slots. */
  readonly accumulator?: 'fixed-point' | 'double-double';
  readonly slots?: number;
  /** StreamingMean's `staging` (by default `file` at this size: in-flight updates in temporary files). */
  readonly staging?: 'memory' | 'file';
  /** StreamingMean's `sumAt` (`arrival` by default; `close` keeps committed updates in their files and sums them at the close). */
  readonly sumAt?: 'arrival' | 'close';
}

/** The round measured on these machines before the upload path's rework (issue 17), and the 4x target. */
const BASELINE_ROUND_S = 12.2;
const BASELINE_MB_PER_S = 196;

/** Client k (from 0) trains on 100 (k+1) examples and moves every weight by (k+1)/4. */
const stepOf = (k: number) => (k + 1) / 4;
const examplesOf = (k: number) => 100 * (k + 1);

/** Integer-valued globals below 2^20, so `global + step` is exact in float32 (see ConstantStepTrainer). */
function initialWeights(params: number): Weights {
  let at = 0;
  return benchSpec(params).map((t) => {
    const data = new Float32Array(sizeOfShape(t.shape));
    for (let i = 0; i < data.length; i++) data[i] = (at + i) % 1024;
    at += data.length;
    return { name: t.name, shape: t.shape, data };
  });
}

/**
 * The model FedAvg must produce after `rounds` rounds, computed with the same float operations in the same
 * order, for each of the 1024 initial values: each client trains to float32(g + step) and sends
 * float32(local - g); the float64 weighted sum of those (exact: a few small dyadic terms) is divided by the
 * total weight and stored as float32; the new global is float32(g + mean).
 */
function expectedGlobals(clients: number, rounds: number): Float32Array {
  const out = Float32Array.from({ length: 1024 }, (_, v) => v);
  let total = 0;
  for (let k = 0; k < clients; k++) total += examplesOf(k);
  for (let r = 0; r < rounds; r++) {
    for (let v = 0; v < out.length; v++) {
      const g = out[v]!;
      let sum = 0;
      for (let k = 0; k < clients; k++) sum += examplesOf(k) * Math.fround(Math.fround(g + stepOf(k)) - g);
      out[v] = g + Math.fround(sum / total);
    }
  }
  return out;
}

function checkResult(result: Weights, clients: number, rounds: number): { mismatches: number; meanStep: number } {
  const expected = expectedGlobals(clients, rounds);
  let mismatches = 0;
  let at = 0;
  for (const t of result) {
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== expected[(at + i) % 1024]) mismatches++;
    at += t.data.length;
  }
  return { mismatches, meanStep: expected[0]! };
}

function forkClient(config: ClientConfig, onReport: (r: ClientReport) => void): ChildProcess {
  const script = fileURLToPath(new URL('./roundTripClient.ts', import.meta.url));
  const child = fork(script, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', (m) => onReport(m as ClientReport));
  return child;
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

interface Clients {
  readonly children: ChildProcess[];
  readonly reports: ClientReport[];
  /** Resolves once every client has joined (or rejects after 120 s). */
  readonly joined: Promise<void>;
  /** Rejects when a client exits without reporting its end: a crash would otherwise stall the round. */
  readonly crashed: Promise<never>;
}

function startClients(o: RoundTripOptions, url: string, coordinatorKey: string): Clients {
  const children: ChildProcess[] = [];
  const reports: ClientReport[] = [];
  let welcomed = 0;
  let onJoined = () => undefined as void;
  let onCrash = (_e: Error) => undefined as void;
  const joined = new Promise<void>((resolve, reject) => {
    onJoined = resolve;
    setTimeout(() => reject(new Error(`only ${welcomed} of ${o.clients} clients joined within 120 s`)), 120_000).unref();
  });
  const crashed = new Promise<never>((_, reject) => (onCrash = reject));
  joined.catch(() => undefined);
  crashed.catch(() => undefined);
  for (let k = 0; k < o.clients; k++) {
    const config: ClientConfig = {
      url,
      name: `bench-${k}`,
      params: o.params,
      step: stepOf(k),
      examples: examplesOf(k),
      chunkBytes: o.chunkBytes,
      window: o.window,
      ackTimeoutMs: o.ackTimeoutMs,
      coordinatorKey,
      ...(o.clientProfileDir ? { profileDir: o.clientProfileDir } : {}),
    };
    const child = forkClient(config, (r) => {
      reports.push(r);
      if (r.type === 'problem') console.log(`  client ${r.name}: ${r.detail}`);
      if (r.type === 'welcome' && ++welcomed === o.clients) onJoined();
    });
    child.once('exit', (code, signal) => {
      if (!reports.some((r) => r.type === 'exit' && r.name === config.name)) onCrash(new Error(`client ${config.name} exited (code ${code}, signal ${signal}) before the run ended`));
    });
    children.push(child);
  }
  return { children, reports, joined, crashed };
}

/** Sums the per-stage CPU seconds of every client profile in `dir`. */
function clientBreakdown(dir: string): Record<Stage, number> {
  const total = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const stages = breakdown(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
    for (const stage of STAGES) total[stage] += stages[stage];
  }
  return total;
}

function printBreakdown(coordinator: Record<Stage, number>, clients: Record<Stage, number>, clientCount: number): void {
  const s = (x: number) => `${x.toFixed(2)} s`;
  console.log();
  console.log(`where the time went, by stage: sampled self time (coordinator during run(), the ${clientCount} clients from joining to exit, summed).`);
  console.log('A sample is wall-clock time with that function on the stack: it includes page faults on fresh memory and time the OS gave other processes.');
  console.log(formatTable(['stage', 'coordinator', 'clients'], STAGES.map((stage) => [stage, s(coordinator[stage]), s(clients[stage])])));
}

export async function benchRoundTrip(o: RoundTripOptions): Promise<void> {
  if (o.breakdown && !o.clientProfileDir) o = { ...o, clientProfileDir: mkdtempSync(join(tmpdir(), 'cohort-roundtrip-prof-')) };
  const payload = encodedByteLength(benchSpec(o.params));
  console.log(`\n## One FedAvg round: ${o.clients} clients x ${o.params.toLocaleString('en')} float32 params (${mb(payload)} per copy), loopback, ${o.chunkBytes}-byte chunks, window ${o.window}`);
  console.log(`coordinator sum: ${o.accumulator ?? 'fixed-point'}, ${o.slots ?? 2} update(s) in flight, staged in ${o.staging ?? 'the default place (files from 16M params)'}, summed at ${o.sumAt ?? 'the default (close where staged in files)'}`);
  console.log(`node ${process.version}; coordinator in this process (pid ${process.pid}), each client forked; evaluation phase ${o.evaluate ? 'on' : 'off'}`);
  // The idle process: Node, the loaded modules, nothing model-sized yet.
  const idleRss = process.memoryUsage().rss;
  const sampler = new RssSampler(50);
  const records: RoundRecord[] = [];
  const rounds = o.rounds ?? 1;
  const coordinator = await Coordinator.start({
    strategy: new FedAvg({
      minFitClients: o.clients,
      fractionEvaluate: o.evaluate ? 1 : 0,
      fit: { epochs: 1, batchSize: 1, learningRate: 1 },
      aggregator: () =>
        new StreamingMean({ accumulator: o.accumulator ?? 'fixed-point', ...(o.slots === undefined ? {} : { slots: o.slots }), ...(o.staging === undefined ? {} : { staging: o.staging }), ...(o.sumAt === undefined ? {} : { sumAt: o.sumAt }) }),
    }),
    // Made for the run alone: the coordinator trains it in place rather than copying it.
    initialWeights: initialWeights(o.params),
    adoptInitialWeights: true,
    rounds,
    roundTimeoutMs: o.roundTimeoutMs,
    transfer: { chunkBytes: o.chunkBytes, window: o.window, ackTimeoutMs: o.ackTimeoutMs },
    onRound: (r) => void records.push(r),
  });
  const rssBefore = process.memoryUsage().rss;
  const coordinatorKey = Buffer.from(coordinator.identity.publicKey).toString('base64');
  const clients = startClients(o, coordinator.url, coordinatorKey);
  try {
    // Wait for every client before run(), so the round's time excludes their start-up.
    await Promise.race([clients.joined, clients.crashed]);
    const profiler = o.breakdown ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    const started = epochMs();
    const run = await Promise.race([coordinator.run(), clients.crashed]);
    const cpu = process.cpuUsage(cpu0);
    const coordinatorProfile = profiler ? ((await profiler.post('Profiler.stop')).profile as CpuProfile) : undefined;
    profiler?.disconnect();
    sampler.stop();
    const coordinatorMaxRss = maxRssBytes();
    await Promise.race([Promise.all(clients.children.map(exited)), new Promise((r) => setTimeout(r, 10_000))]);
    const verdict = checkResult(run.weights, o.clients, rounds);
    const record = records.at(-1)!;
    if (rounds > 1) console.log(`\nrounds: ${records.map((r) => `${r.round}: ${(r.durationMs / 1000).toFixed(2)} s`).join(', ')} (the tables below: the last round; the clients' rows: every fit)`);
    printRound(o, payload, record, started, clients.reports, {
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBefore,
      idleRss,
      sampledPeak: sampler.peak,
      samples: sampler.samples,
      maxRss: coordinatorMaxRss,
    });
    const stages = coordinatorProfile ? { coordinator: breakdown(coordinatorProfile), clients: clientBreakdown(o.clientProfileDir!) } : undefined;
    if (stages) {
      printBreakdown(stages.coordinator, stages.clients, o.clients);
      // Kept for a closer look (chrome://inspect or any .cpuprofile viewer); not a .cpuprofile, so not a client's.
      writeFileSync(join(o.clientProfileDir!, 'coordinator.cpuprofile.json'), JSON.stringify(coordinatorProfile));
      console.log(`profiles: ${o.clientProfileDir} (the coordinator's: coordinator.cpuprofile.json)`);
    }
    const failures = records.flatMap((r) => r.fit.outcomes.filter((c) => c.failure));
    if (failures.length > 0) throw new Error(`fit failures: ${JSON.stringify(failures)}`);
    if (verdict.mismatches > 0) throw new Error(`the new global model differs from the expected one at ${verdict.mismatches} of ${o.params} parameters`);
    console.log(`result check: all ${o.params.toLocaleString('en')} parameters equal the model FedAvg makes in ${rounds} round(s) from their initial values (0 -> ${verdict.meanStep}), exactly`);
    const clientCpu = clients.reports.flatMap((r) => (r.type === 'exit' ? [r.cpuSeconds] : [])).reduce((a, b) => a + b, 0);
    printResults(o, payload, records, coordinatorMaxRss, idleRss, { coordinator: (cpu.user + cpu.system) / 1e6, clients: clientCpu });
    printWhereTheTimeWent(records[0]!, started, clients.reports, stages);
  } finally {
    sampler.stop();
    await coordinator.close();
    for (const child of clients.children) if (child.exitCode === null) child.kill();
  }
}

interface CoordinatorUsage {
  readonly cpuSeconds: number;
  readonly rssBefore: number;
  readonly idleRss: number;
  readonly sampledPeak: number;
  readonly samples: number;
  readonly maxRss: number;
}

function printRound(o: RoundTripOptions, payload: number, record: RoundRecord, started: number, reports: readonly ClientReport[], usage: CoordinatorUsage): void {
  const fitMs = record.fit.durationMs;
  const evalMs = record.evaluate?.durationMs ?? 0;
  const fitBytes = 2 * o.clients * payload;
  const evalBytes = o.evaluate ? o.clients * payload : 0;
  const rate = (bytes: number, ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
  console.log();
  console.log(
    formatTable(
      ['phase', 'wall', 'bytes moved', 'throughput', 'what'],
      [
        ['fit', `${(fitMs / 1000).toFixed(2)} s`, mb(fitBytes), rate(fitBytes, fitMs), `weights down + update up, x ${o.clients} clients; aggregate; apply${record.attempts > 1 ? ` (last of ${record.attempts} attempts)` : ''}`],
        ...(o.evaluate ? [['evaluate', `${(evalMs / 1000).toFixed(2)} s`, mb(evalBytes), rate(evalBytes, evalMs), `new weights down x ${o.clients}; losses back`]] : []),
        ['round', `${(record.durationMs / 1000).toFixed(2)} s`, mb(fitBytes + evalBytes), rate(fitBytes + evalBytes, record.durationMs), `RoundRecord.durationMs${record.attempts > 1 ? `; ${record.attempts} fit attempts, bytes of the last only` : ''}`],
      ],
    ),
  );
  const fits = reports.filter((r): r is Extract<ClientReport, { type: 'fit' }> => r.type === 'fit');
  const exits = new Map(reports.filter((r): r is Extract<ClientReport, { type: 'exit' }> => r.type === 'exit').map((r) => [r.name, r]));
  console.log();
  console.log(
    formatTable(
      ['client', 'fit #', 'weights received', 'trained', 'update acknowledged', 'client peak RSS', 'client CPU'],
      fits.map((f, i) => [
        f.name,
        String(fits.slice(0, i + 1).filter((g) => g.name === f.name).length),
        `${((f.received - started) / 1000).toFixed(2)} s`,
        `${((f.trained - started) / 1000).toFixed(2)} s`,
        `${((f.uploaded - started) / 1000).toFixed(2)} s`,
        exits.has(f.name) ? mb(exits.get(f.name)!.maxRss) : 'n/a',
        exits.has(f.name) ? `${exits.get(f.name)!.cpuSeconds.toFixed(2)} s` : 'n/a',
      ]),
    ),
  );
  console.log('(times from the start of coordinator.run(); the client peak RSS includes its own copies of the model; client CPU: user + system from joining the run to exit)');
  console.log();
  console.log(
    formatTable(
      ['coordinator memory', 'value', 'x model'],
      [
        ['model (one float32 copy)', mb(payload), '1.00x'],
        ['idle process (modules loaded, no model yet)', mb(usage.idleRss), `${(usage.idleRss / payload).toFixed(2)}x`],
        ['RSS before the round (holds the initial model)', mb(usage.rssBefore), `${(usage.rssBefore / payload).toFixed(2)}x`],
        [`peak RSS, sampled every 50 ms (${usage.samples} samples)`, mb(usage.sampledPeak), `${(usage.sampledPeak / payload).toFixed(2)}x`],
        ['peak RSS, process.resourceUsage().maxRSS', mb(usage.maxRss), `${(usage.maxRss / payload).toFixed(2)}x`],
        ['peak RSS above the pre-round RSS (what the round added)', mb(usage.maxRss - usage.rssBefore), `${((usage.maxRss - usage.rssBefore) / payload).toFixed(2)}x`],
        ['peak RSS above the idle process (what the model and the round cost)', mb(usage.maxRss - usage.idleRss), `${((usage.maxRss - usage.idleRss) / payload).toFixed(2)}x`],
      ],
    ),
  );
  console.log(`coordinator CPU during the round: ${usage.cpuSeconds.toFixed(2)} s (user + system)`);
}

function printResults(o: RoundTripOptions, payload: number, records: readonly RoundRecord[], maxRss: number, idleRss: number, cpu: { coordinator: number; clients: number }): void {
  const bytes = (o.evaluate ? 3 : 2) * o.clients * payload;
  // The first round, as the baseline was measured (a one-round run); the last one is the steady state.
  const seconds = records[0]!.durationMs / 1000;
  const rate = bytes / 1e6 / seconds;
  const size = `${o.params.toLocaleString('en')} params x ${o.clients} clients${o.evaluate ? '' : ', no evaluation'}`;
  const scaled = o.params === 100_000_000 && o.clients === 2 && o.evaluate;
  console.log();
  printResult('roundTrip.round_time', seconds, 's', scaled ? `<= ${(BASELINE_ROUND_S / 4).toFixed(2)} s: 4x faster than ${BASELINE_ROUND_S} s measured before; ${size}` : `none at this size (${size})`, scaled ? seconds <= BASELINE_ROUND_S / 4 : undefined);
  printResult('roundTrip.throughput', rate, 'MB/s', scaled ? `>= ${4 * BASELINE_MB_PER_S} MB/s: 4x the ${BASELINE_MB_PER_S} MB/s measured before` : 'none at this size', scaled ? rate >= 4 * BASELINE_MB_PER_S : undefined);
  if (records.length > 1) {
    const steady = records.at(-1)!.durationMs / 1000;
    printResult('roundTrip.steady_round_time', steady, 's', `none set; round ${records.length} of ${records.length}, against the first round's ${seconds.toFixed(1)} s`);
    const target = `>= ${4 * BASELINE_MB_PER_S} MB/s`;
    printResult('roundTrip.steady_throughput', bytes / 1e6 / steady, 'MB/s', scaled ? target : 'none at this size', scaled ? bytes / 1e6 / steady >= 4 * BASELINE_MB_PER_S : undefined);
  }
  printResult('roundTrip.coordinator_peak_rss_vs_model', maxRss / payload, 'x', '<= 3x the model', maxRss / payload <= 3);
  printResult('roundTrip.coordinator_peak_rss_above_idle_vs_model', (maxRss - idleRss) / payload, 'x', `none set; the peak less the idle process's ${mb(idleRss)}`);
  // CPU seconds, which a machine loaded by other work inflates less than wall time: what the round costs the 2 cores.
  printResult('roundTrip.cpu_seconds', cpu.coordinator + cpu.clients, 's', `none set; user + system, coordinator ${cpu.coordinator.toFixed(2)} s during run() + clients ${cpu.clients.toFixed(2)} s from joining to exit, all ${records.length} round(s)`);
}


/**
 * Where the first round's time went, one line each: wall-clock spans of the round's steps (from the clients' marks
 * and the round record), then, with --breakdown, the CPU seconds of each stage of the data flow (encode, hash,
 * socket, decode, sum) summed over the coordinator and the clients.
 */
function printWhereTheTimeWent(record: RoundRecord, started: number, reports: readonly ClientReport[], stages?: { coordinator: Record<Stage, number>; clients: Record<Stage, number> }): void {
  const fits = reports.filter((r): r is Extract<ClientReport, { type: 'fit' }> => r.type === 'fit');
  // Each client's first fit: the first round, as the round-time figures above.
  const firstFits = fits.filter((f, i) => fits.findIndex((g) => g.name === f.name) === i);
  const last = (pick: (f: Extract<ClientReport, { type: 'fit' }>) => number) => Math.max(...firstFits.map(pick));
  const s = (ms: number) => ms / 1000;
  const received = last((f) => f.received) - started;
  const trained = last((f) => f.trained) - started;
  const uploaded = last((f) => f.uploaded) - started;
  const what = 'none: where the time goes';
  printResult('roundTrip.wall.download', s(received), 's', `${what}; run() start until the last client holds the global (encode, hash, send, receive, decode)`);
  printResult('roundTrip.wall.train', s(trained - received), 's', `${what}; the bench trainer's constant step and the delta, after the last download`);
  printResult('roundTrip.wall.upload', s(uploaded - trained), 's', `${what}; last client trained until the last update acknowledged (send, hash, decode, stage + sum)`);
  printResult('roundTrip.wall.aggregate_apply', s(record.fit.durationMs - uploaded), 's', `${what}; last upload acknowledged until the fit phase ends (finish the sum, apply, record)`);
  if (record.evaluate) printResult('roundTrip.wall.evaluate', s(record.evaluate.durationMs), 's', `${what}; the new global down to every client, losses back`);
  if (!stages) return;
  const cpu = (stage: Stage, label = stage.replace(/[^a-z]+/g, '_')) =>
    printResult(`roundTrip.cpu.${label}`, stages.coordinator[stage] + stages.clients[stage], 's', `${what}; coordinator ${stages.coordinator[stage].toFixed(2)} s + clients ${stages.clients[stage].toFixed(2)} s, sampled`);
  for (const stage of ['encode', 'hash', 'socket', 'decode'] as const) cpu(stage);
  cpu('stage + sum', 'sum');
  cpu('apply');
  cpu('garbage collection', 'gc');
}

if (isMain(import.meta.url)) {
  const args = benchArgs(['params', 'clients', 'rounds', 'chunk-bytes', 'window', 'ack-timeout-ms', 'round-timeout-ms', 'slots'], ['no-evaluate', 'breakdown'], ['client-cpu-prof', 'accumulator', 'staging', 'sum-at']);
  const accumulator = args.text('accumulator') ?? 'fixed-point';
  if (accumulator !== 'fixed-point' && accumulator !== 'double-double') throw new Error(`--accumulator must be fixed-point or double-double, got "${accumulator}"`);
  const staging = args.text('staging');
  if (staging !== undefined && staging !== 'memory' && staging !== 'file') throw new Error(`--staging must be memory or file, got "${staging}"`);
  const sumAt = args.text('sum-at');
  if (sumAt !== undefined && sumAt !== 'arrival' && sumAt !== 'close') throw new Error(`--sum-at must be arrival or close, got "${sumAt}"`);
  await benchRoundTrip({
    params: args.number('params', 100_000_000),
    clients: args.number('clients', 2),
    rounds: args.number('rounds', 1),
    evaluate: !args.flag('no-evaluate'),
    chunkBytes: args.number('chunk-bytes', DEFAULT_CHUNK_BYTES),
    window: args.number('window', defaultPeerOptions.window),
    ackTimeoutMs: args.number('ack-timeout-ms', 60_000),
    roundTimeoutMs: args.number('round-timeout-ms', 600_000),
    accumulator,
    slots: args.number('slots', 2),
    ...(staging ? { staging } : {}),
    ...(sumAt ? { sumAt } : {}),
    ...(args.text('client-cpu-prof') ? { clientProfileDir: args.text('client-cpu-prof')! } : {}),
    breakdown: args.flag('breakdown'),
  });
}
