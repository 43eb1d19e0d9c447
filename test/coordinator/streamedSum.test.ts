import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DpMean } from '../../src/coordinator/aggregation/dpMean.js';
import { FILE_STAGING_MIN_PARAMETERS, StreamingMean } from '../../src/coordinator/aggregation/streamingMean.js';
import { UniformWeights } from '../../src/coordinator/aggregation/uniformWeights.js';
import type { AggregationRound } from '../../src/coordinator/aggregation/aggregator.js';
import { createFixedPointKernel } from '../../src/coordinator/aggregation/fixedPointKernel.js';
import type { ClientSummary } from '../../src/coordinator/strategy.js';
import { tensorUploadTarget } from '../../src/coordinator/uploadTarget.js';
import type { StreamMeta } from '../../src/protocol/messages.js';
import { Peer, maxHttpBufferSizeFor } from '../../src/protocol/peer.js';
import type { SocketLike } from '../../src/protocol/socketLike.js';
import { encodeWeightsChunks } from '../../src/protocol/tensorCodec.js';
import type { TensorSpec } from '../../src/protocol/tensors.js';
import { openSocketPair, type SocketPair } from '../helpers/socketPair.js';

/**
 * The fixed-point StreamingMean sums each run of an update as it arrives and takes the update back, exactly,
 * when it fails later: these check that a failed, aborted or unfinished update leaves the sum bit for bit as if
 * it had never arrived, at 100k+ parameters, with the update staged in memory or in a temporary file. The size
 * is past a file stage's 262,144-float run, so a long run is split and a take-back is read back in pieces.
 */
const size = 400_009;
const spec: TensorSpec[] = [{ name: 'w', shape: [size] }];

function update(seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32 - 0.5) * scale;
  });
}

const honest = [
  { id: 'a', weight: 30, values: update(1) },
  { id: 'b', weight: 70, values: update(2, 1e-3) },
];

/** Commits `values` in uneven runs, as the decoder hands them over. */
async function send(round: AggregationRound, id: string, weight: number, values: Float32Array, upTo = size): Promise<ReturnType<AggregationRound['accept']> extends Promise<infer S> ? S : never> {
  const sink = await round.accept(id, weight);
  for (const [from, to] of [[0, 17], [17, 65_536], [65_536, size]] as const) if (from < upTo) sink.write(from, values.subarray(from, Math.min(to, upTo)));
  return sink;
}

const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** The honest round's mean and sum, by a mean that saw nothing else (staged in memory). */
async function reference(kernel: 'wasm-simd' | 'js'): Promise<{ mean: string; sum: string }> {
  const agg = new StreamingMean({ kernel, staging: 'memory' });
  agg.bind(spec);
  const round = agg.begin(1);
  for (const u of honest) (await send(round, u.id, u.weight, u.values)).commit();
  const result = round.finish();
  return { mean: bytes(result.mean!), sum: bytes(result.sum!) };
}

// foldAfter 1 folds every commit into the partial-sum file; 4 (the default) keeps these rounds' commits in files.
const stagings = [
  ['wasm-simd', 'memory', 'arrival', 4],
  ['js', 'memory', 'arrival', 4],
  ['wasm-simd', 'file', 'arrival', 4],
  ['js', 'file', 'arrival', 4],
  ['wasm-simd', 'file', 'close', 4],
  ['js', 'file', 'close', 4],
  ['wasm-simd', 'file', 'close', 1],
  ['js', 'file', 'close', 2],
] as const;

describe.each(stagings)('streamed fixed-point sum (%s kernel, staged in %s, summed at %s, folded after %d)', (kernel, staging, sumAt, foldAfter) => {
  /** Memory staging also returns the float64 sum, which must match too; file staging returns the mean alone. */
  const expectSum = (sum: Float64Array | undefined, expected: string) => {
    if (staging === 'memory') expect(bytes(sum!)).toBe(expected);
    else expect(sum).toBeUndefined();
  };

  it('takes back an update aborted mid-stream, one with a bad run after good ones, and one still open at finish', async () => {
    const agg = new StreamingMean({ kernel, slots: 4, staging, sumAt, foldAfter });
    agg.bind(spec);
    const round = agg.begin(1);
    (await send(round, honest[0]!.id, honest[0]!.weight, honest[0]!.values)).commit();
    // Two of three runs summed, then the sender drops.
    (await send(round, 'dropped', 500, update(3, 100), 65_536)).abort('disconnected');
    // Two good runs summed, then a NaN in the third.
    const poisoned = update(4, 100);
    poisoned[350_000] = NaN;
    await expect(send(round, 'poisoned', 500, poisoned)).rejects.toThrow(/non-finite value \(NaN\) at parameter 350000/);
    (await send(round, honest[1]!.id, honest[1]!.weight, honest[1]!.values)).commit();
    // Still streaming when the round closes: summed so far, then taken back by finish(); its late writes are refused.
    const late = await send(round, 'late', 500, update(5, 100), 65_536);
    const result = round.finish();
    expect(() => late.write(65_536, new Float32Array(size - 65_536))).toThrow(/round 1 closed before the update from late completed/);
    expect(result.contributors).toEqual(['a', 'b']);
    expect(result.totalWeight).toBe(100);
    const expected = await reference(kernel);
    expect(bytes(result.mean!)).toBe(expected.mean);
    expectSum(result.sum, expected.sum);
    // The next round starts from zero, and the late update's abort does not reach into it.
    const next = agg.begin(2);
    late.abort('gone');
    for (const u of honest) (await send(next, u.id, u.weight, u.values)).commit();
    expect(bytes(next.finish().mean!)).toBe(expected.mean);
  });

  it('rounds a clipped update (commit scale < 1) at its scaled weight, as if the scale were known from the start', async () => {
    const agg = new StreamingMean({ kernel, staging, sumAt, foldAfter });
    agg.bind(spec);
    const round = agg.begin(1);
    const values = update(6);
    (await send(round, 'clipped', 40, values)).commit(0.3);
    const result = round.finish();
    const direct = createFixedPointKernel(size, 2, 40, kernel);
    direct.slots[1]!.set(values);
    direct.add(direct.slots[1]!, 40 * 0.3);
    expectSum(result.sum, bytes(direct.finish(direct.slots[0]!, 40)));
    expect(bytes(result.mean!)).toBe(bytes(direct.slots[0]!));
  });

  it('gives a bit-identical mean whatever order the updates arrive and interleave in', async () => {
    const updates = [...honest, { id: 'c', weight: 11, values: update(8, 3) }];
    const means = new Set<string>();
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0]]) {
      const agg = new StreamingMean({ kernel, staging, sumAt, foldAfter, slots: 3 });
      agg.bind(spec);
      const round = agg.begin(1);
      // All three open at once, their runs interleaved, then committed in the order given.
      const sinks = await Promise.all(order.map((k) => round.accept(updates[k]!.id, updates[k]!.weight)));
      for (const [from, to] of [[0, 17], [17, 65_536], [65_536, size]] as const) {
        sinks.forEach((sink, i) => sink.write(from, updates[order[i]!]!.values.subarray(from, to)));
      }
      for (const sink of sinks) sink.commit();
      means.add(bytes(round.finish().mean!));
    }
    expect(means.size).toBe(1);
    // And the same bits whichever way the updates were staged.
    const other = new StreamingMean({ kernel, staging: staging === 'file' ? 'memory' : 'file', slots: 3 });
    other.bind(spec);
    const round = other.begin(1);
    for (const u of updates) (await send(round, u.id, u.weight, u.values)).commit();
    expect(means.has(bytes(round.finish().mean!))).toBe(true);
  });
});

describe.each([
  ['memory', 'arrival', 4],
  ['file', 'arrival', 4],
  ['file', 'close', 4],
  ['file', 'close', 1],
] as const)('a failed upload over a real socket (staged in %s, summed at %s, folded after %d)', (staging, sumAt, foldAfter) => {
  let pair: SocketPair;
  beforeEach(async () => void (pair = await openSocketPair(maxHttpBufferSizeFor(64 * 1024))));
  afterEach(async () => pair.close());

  /** A round whose uploads arrive over the pair, and the aborts its sinks saw. */
  function serve() {
    const agg = new StreamingMean({ staging, sumAt, foldAfter });
    agg.bind(spec);
    const round = agg.begin(1);
    const target = tensorUploadTarget(round, spec, 'the update');
    const aborted: string[] = [];
    const server = new Peer(pair.server, { chunkBytes: 64 * 1024, ackTimeoutMs: 5_000 });
    server.onStream(async (meta) => {
      const id = meta.kind === 'fit-result' ? meta.taskId : 'other';
      const upload = await target.open(meta as Parameters<typeof target.open>[0], { id } as ClientSummary);
      return {
        write: (chunk) => upload.write(chunk),
        end: () => {
          upload.end();
          upload.commit();
        },
        abort: (reason) => {
          aborted.push(`${id}: ${reason}`);
          upload.abort(reason);
        },
      };
    });
    const client = new Peer(pair.client as unknown as SocketLike, { chunkBytes: 64 * 1024, ackTimeoutMs: 5_000 });
    return { round, aborted, client };
  }

  const meta = (taskId: string, numExamples: number): StreamMeta => ({ kind: 'fit-result', round: 1, taskId, numExamples, metrics: {} });
  const chunksOf = (values: Float32Array) => [...encodeWeightsChunks([{ name: 'w', shape: [size], data: values }], 64 * 1024)].map((c) => Uint8Array.from(c));
  const total = (chunks: Uint8Array[]) => chunks.reduce((n, c) => n + c.length, 0);

  it('is refused by its SHA-256 at the end, after its chunks were summed, and leaves no trace in the mean', async () => {
    const { round, aborted, client } = serve();
    for (const u of honest) {
      const chunks = chunksOf(u.values);
      await client.sendStream(meta(u.id, u.weight), total(chunks), chunks);
    }
    // The sender hashes its true update; a value in the fourth chunk is changed on the way (still a finite float).
    const chunks = chunksOf(update(7));
    const sha256 = createHash('sha256');
    for (const c of chunks) sha256.update(c);
    const digest = sha256.digest('hex');
    chunks[3]![100] = chunks[3]![100]! ^ 0x01;
    await expect(client.sendStream(meta('tampered', 500), total(chunks), chunks, { sha256: digest })).rejects.toThrow(/SHA-256 of the received bytes does not match the sender's/);
    expect(aborted).toEqual(["tampered: SHA-256 of the received bytes does not match the sender's"]);

    const result = round.finish();
    expect(result.contributors).toEqual(['a', 'b']);
    expect(bytes(result.mean!)).toBe((await reference('wasm-simd')).mean);
  });

  it('is taken back when the sender drops mid-upload, after most of its chunks were summed', async () => {
    const { round, aborted, client } = serve();
    for (const u of honest) {
      const chunks = chunksOf(u.values);
      await client.sendStream(meta(u.id, u.weight), total(chunks), chunks);
    }
    const chunks = chunksOf(update(9, 50));
    const sent: Uint8Array[] = chunks.slice(0, 20);
    const dropped = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (aborted.length > 0) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    // Twenty of the twenty-five chunks go, then the connection drops.
    const upload = client.sendStream(meta('dropped', 500), total(chunks), (async function* () {
      for (const c of sent) yield c;
      await new Promise((r) => setTimeout(r, 200));
      pair.client.disconnect();
      await new Promise(() => undefined);
    })());
    upload.catch(() => undefined);
    await dropped;
    expect(aborted).toEqual(['dropped: peer disconnected']);
    const result = round.finish();
    expect(result.contributors).toEqual(['a', 'b']);
    expect(bytes(result.mean!)).toBe((await reference('wasm-simd')).mean);
  });
});

describe('file staging', () => {
  it('leaves no file behind, even while an update is in flight (the file is unlinked as it is opened)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-staging-test-'));
    try {
      const agg = new StreamingMean({ staging: 'file', stagingDir: dir });
      agg.bind(spec);
      const round = agg.begin(1);
      const open = await send(round, 'a', 30, honest[0]!.values, 65_536);
      expect(readdirSync(dir)).toEqual([]);
      open.write(65_536, honest[0]!.values.subarray(65_536));
      open.commit();
      (await send(round, 'b', 70, honest[1]!.values)).commit();
      expect(bytes(round.finish().mean!)).toBe((await reference('wasm-simd')).mean);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with sumAt: 'close', holds each committed update in its file until the round closes, then frees them all", async () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const agg = new StreamingMean({ staging: 'file', sumAt: 'close' });
    agg.bind(spec);
    const round = agg.begin(1);
    for (const u of honest) (await send(round, u.id, u.weight, u.values)).commit();
    // Committed, not yet summed: one open (unlinked) file each. Summed on arrival they would be closed at commit.
    expect(openFiles() - before).toBe(2);
    expect(bytes(round.finish().mean!)).toBe((await reference('wasm-simd')).mean);
    expect(openFiles()).toBe(before);
    // A round that never finishes (the coordinator gave up on it) frees its files when the next one begins.
    (await send(agg.begin(2), 'a', 30, honest[0]!.values)).commit();
    expect(openFiles() - before).toBe(1);
    agg.begin(3);
    expect(openFiles()).toBe(before);
    expect(() => new StreamingMean({ staging: 'memory', sumAt: 'close' })).toThrow(/sumAt: 'close' reads committed updates back from their files: it needs staging: 'file'/);
  });

  it('folds every foldAfter commits into one partial-sum file, so the disk holds a bounded number of updates', async () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const agg = new StreamingMean({ staging: 'file', foldAfter: 2 });
    agg.bind(spec);
    const round = agg.begin(1);
    const updates = [...honest, { id: 'c', weight: 11, values: update(8, 3) }, { id: 'd', weight: 5, values: update(10, 2) }, { id: 'e', weight: 9, values: update(11) }];
    const held: number[] = [];
    for (const u of updates) {
      (await send(round, u.id, u.weight, u.values)).commit();
      held.push(openFiles() - before);
    }
    // 1 update; 2 folded into the partial sum (1 file); + 1; 2 more folded into it; + 1.
    expect(held).toEqual([1, 1, 2, 1, 2]);
    const mean = bytes(round.finish().mean!);
    expect(openFiles()).toBe(before);
    const inMemory = new StreamingMean({ staging: 'memory' });
    inMemory.bind(spec);
    const reference = inMemory.begin(1);
    for (const u of [...updates].reverse()) (await send(reference, u.id, u.weight, u.values)).commit();
    expect(mean).toBe(bytes(reference.finish().mean!));
  });

  it('fails the round, never wraps, when a fold takes a sum past the fixed-point range', async () => {
    // At fractionBits 60 each value below 4 is in range, and three of 3.9 sum past 2^63 on the grid.
    const agg = new StreamingMean({ staging: 'file', fractionBits: 60, foldAfter: 1 });
    agg.bind(spec);
    const round = agg.begin(1);
    for (const id of ['a', 'b', 'c']) (await send(round, id, 1, new Float32Array(size).fill(3.9))).commit();
    expect(() => round.finish()).toThrow(/round 1: a parameter's weighted sum left the fixed-point range of \+-2\^3 .*the round's sum is not used/);
  });

  it('refuses an update it cannot stage with an error naming stagingDir, and loses nothing else', async () => {
    const missing = join(tmpdir(), `cohort-no-such-dir-${process.pid}`, 'nested');
    const agg = new StreamingMean({ staging: 'file', stagingDir: missing, slots: 1 });
    agg.bind(spec);
    const round = agg.begin(1);
    await expect(round.accept('a', 30)).rejects.toThrow(/cannot stage the update from a: creating a staging file in .*nested failed \(ENOENT\): set StreamingMean's stagingDir to a writable directory, or use staging: 'memory'/);
    // Its slot came back: with one slot, a second accept would otherwise wait forever.
    await expect(round.accept('b', 70)).rejects.toThrow(/ENOENT/);
    expect(round.finish()).toEqual({ mean: undefined, totalWeight: 0, contributors: [] });
  });

  it('keeps the float64 sum, bit-identical to memory staging\'s, for a wrapper that reads it (DP through UniformWeights)', async () => {
    // sumAt: 'close' gives way too: the wrapper needs the whole float64 sum, so it is made on arrival.
    const inner = new StreamingMean({ staging: 'file', sumAt: 'close' });
    new DpMean(new UniformWeights(inner), { clipNorm: 1, noiseMultiplier: 1 }).bind(spec);
    const round = inner.begin(1);
    for (const u of honest) (await send(round, u.id, u.weight, u.values)).commit();
    const result = round.finish();
    const expected = await reference('wasm-simd');
    expect(bytes(result.sum!)).toBe(expected.sum);
    expect(bytes(result.mean!)).toBe(expected.mean);
    // Bound without the wrapper, the same aggregator writes the mean over the sum and returns none.
    inner.bind(spec);
    const bare = inner.begin(2);
    for (const u of honest) (await send(bare, u.id, u.weight, u.values)).commit();
    const plain = bare.finish();
    expect(plain.sum).toBeUndefined();
    expect(bytes(plain.mean!)).toBe(expected.mean);
  });

  it('is the default for big models and needs the fixed-point sum', () => {
    expect(() => new StreamingMean({ staging: 'file', accumulator: 'double-double' })).toThrow(/staging: 'file' needs accumulator: 'fixed-point'/);
    const big = new StreamingMean({ kernel: 'js' });
    big.bind([{ name: 'w', shape: [FILE_STAGING_MIN_PARAMETERS] }]);
    const small = new StreamingMean({ kernel: 'js' });
    small.bind(spec);
    // A file-staged round returns no float64 sum (its mean is written over the accumulator); a memory-staged one does.
    return Promise.all(
      [big, small].map(async (agg) => {
        const round = agg.begin(1);
        const n = agg === big ? FILE_STAGING_MIN_PARAMETERS : size;
        const sink = await round.accept('a', 1);
        sink.write(0, new Float32Array(n).fill(0.5));
        sink.commit();
        return round.finish().sum === undefined;
      }),
    ).then(([bigHasNoSum, smallHasNoSum]) => {
      expect(bigHasNoSum).toBe(true);
      expect(smallHasNoSum).toBe(false);
    });
  });
});
