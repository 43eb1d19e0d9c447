/**
 * Update compression's CPU cost at 1M parameters, in one run: on the client, compressing an update with error
 * feedback (int8: stochastic rounding; top-k at 10 %: a sort of the magnitudes); at the coordinator, decoding the
 * upload into dense float32 runs, next to decoding the same update sent as float32 (the uncompressed path the
 * aggregators already read), both copied into a staging array as the aggregator does. Bytes are exact (the layouts' lengths); times are medians of interleaved runs.
 *
 *   npx tsx bench/compression.ts [--params 1_000_000] [--runs 5]
 */
import { ErrorFeedback } from '../src/client/compression/errorFeedback.js';
import { encodeCompressedChunks } from '../src/protocol/compressedFormat.js';
import { CompressedStreamDecoder } from '../src/protocol/compressedStreamDecoder.js';
import { topKCount, type CompressionOptions } from '../src/protocol/compression.js';
import { createSeededRng } from '../src/protocol/seededRng.js';
import { TensorStreamDecoder, encodeWeightsChunks, encodedByteLength, type TensorStreamHandlers } from '../src/protocol/tensorCodec.js';
import type { Weights } from '../src/protocol/tensors.js';
import { benchArgs } from './lib/args.js';
import { printResult } from './lib/result.js';
import { median, timeRuns } from './lib/stats.js';

const args = benchArgs(['params', 'runs'] as const);
const params = args.number('params', 1_000_000);
const runs = args.number('runs', 5);
const CHUNK = 1 << 20;

const rng = createSeededRng(1);
// Small values with a few large ones (1 % at 50x), as a trained update's are: most int8 levels are small.
const update: Weights = [{ name: 'w', shape: [params], data: Float32Array.from({ length: params }, () => (rng.nextFloat() - 0.5) * 1e-2 * (rng.nextFloat() < 0.01 ? 50 : 1)) }];
const methods: readonly CompressionOptions[] = [{ method: 'int8' }, { method: 'int8', deflate: true }, { method: 'topk', fraction: 0.1 }];

/** Collects the chunks an encoder yields into copies (what arrives from a socket). */
const received = (chunks: Iterable<Uint8Array>) => [...chunks].map((c) => Uint8Array.from(c));
// Both paths copy what they decode into a staging array, as the aggregator does with every upload.
const staging = new Float32Array(params);
const handlers: TensorStreamHandlers = { onSpec: () => undefined, onValues: (offset, values) => staging.set(values, offset) };

const dense = received(encodeWeightsChunks(update, CHUNK));
const denseTimes: number[] = [];
const compressTimes = methods.map(() => [] as number[]);
const decodeTimes = methods.map(() => [] as number[]);
const payloads = methods.map((m) => received(encodeCompressedChunks(new ErrorFeedback().compress(update, 'bench', { options: m, seed: 1 }).compressed, CHUNK)));
for (let r = -1; r < runs; r++) {
  const [d] = await timeRuns(0, 1, () => {
    const decoder = new TensorStreamDecoder(handlers);
    for (const c of dense) decoder.push(c);
    decoder.end();
  });
  for (const [i, m] of methods.entries()) {
    const [c] = await timeRuns(0, 1, () => received(encodeCompressedChunks(new ErrorFeedback().compress(update, 'bench', { options: m, seed: r + 2 }).compressed, CHUNK)));
    const [x] = await timeRuns(0, 1, () => {
      const decoder = new CompressedStreamDecoder(m.method, handlers, m.method === 'topk' ? topKCount(m.fraction, params) : undefined, m.method === 'int8' && m.deflate === true);
      for (const chunk of payloads[i]!) decoder.push(chunk);
      decoder.end();
    });
    if (r >= 0) (compressTimes[i]!.push(c!), decodeTimes[i]!.push(x!));
  }
  if (r >= 0) denseTimes.push(d!);
}

const denseBytes = encodedByteLength(update);
const denseDecode = median(denseTimes);
console.log(`${params.toLocaleString('en')} parameters; float32 upload ${denseBytes.toLocaleString('en')} bytes, decoded in ${(denseDecode * 1000).toFixed(1)} ms (median of ${runs})`);
for (const [i, m] of methods.entries()) {
  const name = m.method === 'topk' ? `topk${m.fraction}` : m.deflate ? 'int8_deflate' : m.method;
  const bytes = payloads[i]!.reduce((n, c) => n + c.length, 0);
  const compress = median(compressTimes[i]!);
  const decode = median(decodeTimes[i]!);
  console.log(`${name}: ${bytes.toLocaleString('en')} bytes; client compresses and encodes (error feedback and deflating included) in ${(compress * 1000).toFixed(1)} ms, coordinator decodes in ${(decode * 1000).toFixed(1)} ms`);
  printResult(`compression.${name}.bytes_ratio`, denseBytes / bytes, 'x fewer bytes than float32', m.method === 'int8' ? '>= 3.9' : '>= 4', denseBytes / bytes >= (m.method === 'int8' ? 3.9 : 4));
  // The coordinator must decode faster than float32 values could arrive instead: 49M values/s is the loopback round
  // trip's 196 MB/s (bench/roundTrip.ts, 100M params); a real network is slower still.
  printResult(`compression.${name}.decode_rate`, params / decode / 1e6, 'M values/s decoded at the coordinator', '>= 49 (float32 on loopback)', params / decode / 1e6 >= 49);
  printResult(`compression.${name}.decode_vs_float32`, denseDecode / decode, 'x the float32 decode (a memcpy)', 'none: for the record');
  // Beside local training (seconds a round at this size) the client's compression is small; the limit says how small.
  printResult(`compression.${name}.compress_ms_per_1M`, (compress * 1000 * 1e6) / params, 'ms on the client per 1M values', '<= 200', (compress * 1e9) / params <= 200);
}
