/**
 * FedAvg aggregation throughput: `clients` uploads of `params` float32 values each, through the path a
 * coordinator runs per upload (ClientSession.receiveStream): encoded 1 MiB chunks -> TensorStreamDecoder ->
 * StreamingMean's UpdateSink (accept, write, commit), then finish(). Ratios are against a plain memory copy
 * and a bare float64 weighted-sum loop over the same bytes, measured in the same run (DESIGN.md,
 * "Performance": the machines are noisy, so only same-run ratios are compared).
 *
 *   npx tsx bench/aggregation.ts [--params 1_000_000] [--clients 100] [--runs 5] [--warmup 1]
 */
import { createHash } from 'node:crypto';
import { StreamingMean } from '../src/coordinator/aggregation/streamingMean.js';
import type { AggregateResult } from '../src/coordinator/aggregation/aggregator.js';
import { DEFAULT_CHUNK_BYTES } from '../src/protocol/peer.js';
import { TensorStreamDecoder, encodeWeightsChunks } from '../src/protocol/tensorCodec.js';
import { specMismatch, type TensorSpec, type Weights } from '../src/protocol/tensors.js';
import { benchArgs } from './lib/args.js';
import { isMain } from './lib/isMain.js';
import { benchSpec } from './lib/modelSpec.js';
import { maxRssBytes } from './lib/rss.js';
import { median, timeRuns } from './lib/stats.js';
import { formatTable, gbps, mb, ratio } from './lib/table.js';

export interface AggregationBenchOptions {
  readonly params: number;
  readonly clients: number;
  readonly runs: number;
  readonly warmup: number;
  /** Bytes per encoded chunk, as the Peer sends them (1 MiB by default). */
  readonly chunkBytes: number;
}

interface Inputs {
  readonly spec: TensorSpec[];
  /** Each client's update as plain float32 values (the baselines' input). */
  readonly raw: Float32Array[];
  /** The same updates encoded as the wire carries them (the Cohort path's input). */
  readonly payloads: Uint8Array[][];
  /** FedAvg weights (numExamples), varied so a wrong weighting shows. */
  readonly weights: number[];
}

/** Deterministic values in [-1, 1) (xorshift32), distinct per client. */
function randomUpdate(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

function asWeights(spec: readonly TensorSpec[], flat: Float32Array): Weights {
  let at = 0;
  return spec.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const data = flat.subarray(at, at + n);
    at += n;
    return { name: t.name, shape: t.shape, data };
  });
}

function prepare(o: AggregationBenchOptions): Inputs {
  const spec = benchSpec(o.params);
  const raw: Float32Array[] = [];
  const payloads: Uint8Array[][] = [];
  const weights: number[] = [];
  for (let k = 0; k < o.clients; k++) {
    const update = randomUpdate(o.params, k + 1);
    raw.push(update);
    payloads.push([...encodeWeightsChunks(asWeights(spec, update), o.chunkBytes)]);
    weights.push(10 + (k % 7) * 13);
  }
  return { spec, raw, payloads, weights };
}

/** Memory-bandwidth reference: copy every update's bytes once into one reused buffer. */
function memcpy(inputs: Inputs, dest: Uint8Array): void {
  for (const u of inputs.raw) dest.set(new Uint8Array(u.buffer, u.byteOffset, u.byteLength));
}

/** The arithmetic alone: float64 weighted sum of the float32 updates, then the mean as float32. */
function bareLoop(inputs: Inputs): Float32Array {
  const n = inputs.raw[0]!.length;
  const sum = new Float64Array(n);
  let total = 0;
  inputs.raw.forEach((u, k) => {
    const w = inputs.weights[k]!;
    for (let i = 0; i < n; i++) sum[i]! += w * u[i]!;
    total += w;
  });
  const mean = new Float32Array(n);
  for (let i = 0; i < n; i++) mean[i] = sum[i]! / total;
  return mean;
}

type Stage = 'decode' | 'stage' | 'commit' | 'commit+sha256';

/**
 * One aggregation round over every payload, as ClientSession.receiveStream wires it. `stage` stops after
 * the sink's writes (abort instead of commit) and `decode` skips the sink, to attribute the time;
 * `commit+sha256` adds the hash that Peer.receiveChunk computes over every chunk.
 */
async function cohortRound(inputs: Inputs, mean: StreamingMean, round: number, stage: Stage): Promise<AggregateResult> {
  const aggregation = mean.begin(round);
  for (let k = 0; k < inputs.payloads.length; k++) {
    const sink = await aggregation.accept(`client-${k}`, inputs.weights[k]!);
    const decoder = new TensorStreamDecoder({
      onSpec: (spec) => {
        const mismatch = specMismatch(inputs.spec, spec);
        if (mismatch) throw new Error(`update does not match the model: ${mismatch}`);
      },
      onValues: stage === 'decode' ? () => undefined : (offset, values) => sink.write(offset, values),
    });
    const hash = stage === 'commit+sha256' ? createHash('sha256') : undefined;
    for (const chunk of inputs.payloads[k]!) {
      hash?.update(chunk);
      decoder.push(chunk);
    }
    hash?.digest();
    decoder.end();
    if (stage === 'commit' || stage === 'commit+sha256') sink.commit();
    else sink.abort('benchmark: attribution run');
  }
  return aggregation.finish();
}

/** Exact comparison: both sides sum the same float64 products in the same order, so they must agree bit for bit. */
function check(result: AggregateResult, reference: Float32Array, inputs: Inputs): { maxAbsDiff: number; mismatches: number } {
  const mean = result.mean;
  if (!mean || mean.length !== reference.length) throw new Error(`aggregation returned ${mean?.length ?? 'no'} values, expected ${reference.length}`);
  if (result.contributors.length !== inputs.payloads.length) throw new Error(`${result.contributors.length} contributors, expected ${inputs.payloads.length}`);
  const totalWeight = inputs.weights.reduce((a, b) => a + b, 0);
  if (result.totalWeight !== totalWeight) throw new Error(`total weight ${result.totalWeight}, expected ${totalWeight}`);
  let maxAbsDiff = 0;
  let mismatches = 0;
  for (let i = 0; i < mean.length; i++) {
    const d = Math.abs(mean[i]! - reference[i]!);
    if (!(d === 0)) mismatches++;
    if (!(d <= maxAbsDiff)) maxAbsDiff = d;
  }
  if (mismatches > 0) throw new Error(`aggregate differs from the float64 reference at ${mismatches} parameters (max |diff| ${maxAbsDiff})`);
  return { maxAbsDiff, mismatches };
}

export async function benchAggregation(o: AggregationBenchOptions): Promise<void> {
  const bytes = o.params * 4 * o.clients;
  console.log(`\n## FedAvg aggregation: ${o.clients} clients x ${o.params.toLocaleString('en')} float32 params (${mb(bytes)} of updates), ${o.chunkBytes}-byte chunks`);
  console.log(`node ${process.version}; median of ${o.runs} runs after ${o.warmup} warm-up`);
  const inputs = prepare(o);
  const rssInputs = process.memoryUsage().rss;
  const dest = new Uint8Array(o.params * 4);
  const mean = new StreamingMean();
  mean.bind(inputs.spec);

  let reference: Float32Array | undefined;
  const measured: { name: string; note: string; seconds: number }[] = [];
  const measure = async (name: string, note: string, fn: (run: number) => unknown) => {
    const seconds = median(await timeRuns(o.warmup, o.runs, fn));
    measured.push({ name, note, seconds });
    return seconds;
  };
  const memcpySeconds = await measure('memcpy (Uint8Array.set)', `${o.clients} x ${mb(o.params * 4)} into one buffer`, () => memcpy(inputs, dest));
  const bareSeconds = await measure('bare f64 weighted-sum loop', 'sum += w * x, then mean; no decoder', () => (reference = bareLoop(inputs)));
  await measure('decoder only', 'push chunks, values dropped', (run) => cohortRound(inputs, mean, 1000 + run, 'decode'));
  await measure('decoder + UpdateSink.write', 'staged, finite-checked, then aborted', (run) => cohortRound(inputs, mean, 2000 + run, 'stage'));
  let last: AggregateResult | undefined;
  const cohortSeconds = await measure('Cohort: decode -> write -> commit, finish', 'the coordinator upload path', async (run) => {
    last = await cohortRound(inputs, mean, 3000 + run, 'commit');
  });
  await measure('Cohort + SHA-256 per chunk', 'adds Peer.receiveChunk\'s hash', (run) => cohortRound(inputs, mean, 4000 + run, 'commit+sha256'));
  const verdict = check(last!, reference!, inputs);

  console.log();
  console.log(
    formatTable(
      ['path', 'median', 'throughput', 'vs memcpy', 'what'],
      measured.map((m) => [m.name, `${(m.seconds * 1000).toFixed(1)} ms`, gbps(bytes, m.seconds), ratio(memcpySeconds / m.seconds), m.note]),
    ),
  );
  console.log();
  console.log(
    formatTable(
      ['ratio', 'value'],
      [
        ['Cohort / memcpy (throughput)', ratio(memcpySeconds / cohortSeconds)],
        ['Cohort / bare loop (throughput)', ratio(bareSeconds / cohortSeconds)],
      ],
    ),
  );
  console.log();
  console.log(`result check: Cohort's mean equals the direct float64 computation bit for bit at all ${o.params.toLocaleString('en')} parameters (max |diff| ${verdict.maxAbsDiff}), ${last!.contributors.length} contributors, total weight ${last!.totalWeight}`);
  console.log(`peak RSS ${mb(maxRssBytes())} (RSS after building the inputs: ${mb(rssInputs)}, of which the benchmark's own inputs: ${mb(2 * bytes)} raw + encoded; StreamingMean state: ${mb(o.params * 8)} sum + 2 x ${mb(o.params * 4)} slots)`);
  console.log('targets (from DESIGN.md, not measured in this run): at least half the memory-bandwidth limit, i.e. Cohort / memcpy >= 0.50x;');
  console.log('  Flower\'s aggregate 2.46 GB/s and numpy sum 18.8 GB/s, both measured on these machines when DESIGN.md was written.');
  const half = memcpySeconds / cohortSeconds >= 0.5;
  console.log(`  this run: ${gbps(bytes, cohortSeconds)} = ${ratio(memcpySeconds / cohortSeconds)} of memcpy -> ${half ? 'meets' : 'MISSES'} the half-bandwidth target; ${ratio(bytes / cohortSeconds / 1e9 / 2.46)} Flower's published figure.`);
}

if (isMain(import.meta.url)) {
  const args = benchArgs(['params', 'clients', 'runs', 'warmup', 'chunk-bytes']);
  await benchAggregation({
    params: args.number('params', 1_000_000),
    clients: args.number('clients', 100),
    runs: args.number('runs', 5),
    warmup: args.number('warmup', 1, 0),
    chunkBytes: args.number('chunk-bytes', DEFAULT_CHUNK_BYTES),
  });
}
