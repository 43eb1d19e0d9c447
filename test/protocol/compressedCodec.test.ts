import { describe, expect, it } from 'vitest';
import { quantizeInt8 } from '../../src/client/compression/quantizeInt8.js';
import { topK } from '../../src/client/compression/topK.js';
import { deflateRawSync } from 'node:zlib';
import { compressedByteLength, decompress, encodeCompressedChunks, int8BodyLength, type CompressedUpdate } from '../../src/protocol/compressedFormat.js';
import { CompressedStreamDecoder } from '../../src/protocol/compressedStreamDecoder.js';
import { INT8_BLOCK, compressionRefusal, readCompressionTask, topKCount } from '../../src/protocol/compression.js';
import { createSeededRng } from '../../src/protocol/seededRng.js';
import { encodeWeights, encodedHeaderLength } from '../../src/protocol/tensorCodec.js';
import type { TensorSpec } from '../../src/protocol/tensors.js';

// 120,300 values over two tensors: a partial last int8 block, and more than one run of decoded values.
const SPEC: TensorSpec[] = [
  { name: 'dense/kernel', shape: [300, 400] },
  { name: 'dense/bias', shape: [300] },
];
const TOTAL = 120_300;

function values(seed: number): Float32Array {
  const rng = createSeededRng(seed);
  return Float32Array.from({ length: TOTAL }, () => (rng.nextFloat() - 0.5) * 0.02 * (rng.nextFloat() < 0.01 ? 50 : 1));
}

function bytesOf(update: CompressedUpdate, chunkBytes = 1 << 20): Uint8Array {
  const chunks = [...encodeCompressedChunks(update, chunkBytes)];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
}

/** Decodes `bytes` pushed in pieces cut every `step` bytes, into one dense array (checking runs arrive in order). */
function decode(method: 'int8' | 'topk', bytes: Uint8Array, step = bytes.length, k?: number, deflated = false): Float32Array {
  const out = new Float32Array(TOTAL);
  let next = 0;
  const decoder = new CompressedStreamDecoder(
    method,
    {
      onSpec: (spec) => expect(spec).toEqual(SPEC),
      onValues: (offset, run) => {
        expect(offset).toBe(next);
        out.set(run, offset);
        next += run.length;
      },
    },
    k,
    deflated,
  );
  for (let at = 0; at < bytes.length; at += step) decoder.push(bytes.subarray(at, at + step));
  decoder.end();
  expect(next).toBe(TOTAL);
  return out;
}

const K = topKCount(0.1, TOTAL);

describe('compressed update layouts', () => {
  it('int8: decodes, from any chunking, exactly what the client computed, at 3.97x fewer bytes than float32', () => {
    const update = quantizeInt8(values(1), SPEC, createSeededRng(7));
    const bytes = bytesOf(update, 4099);
    expect(bytes.length).toBe(compressedByteLength('int8', SPEC));
    expect(bytes.length).toBe(encodedHeaderLength(SPEC) + TOTAL + 4 * Math.ceil(TOTAL / INT8_BLOCK));
    expect(encodeWeights([{ ...SPEC[0]!, data: new Float32Array(120_000) }, { ...SPEC[1]!, data: new Float32Array(300) }]).length / bytes.length).toBeGreaterThan(3.96);
    const expected = decompress(update);
    for (const step of [bytes.length, 1, 7, 517, 65_536]) expect(decode('int8', bytes, step)).toEqual(expected);
  });

  it('int8, deflated: lossless (the same values to the bit), smaller when levels are small, from any chunking', () => {
    const update = quantizeInt8(values(1), SPEC, createSeededRng(7));
    const plain = bytesOf(update);
    const deflated = bytesOf({ ...update, deflate: true }, 3001);
    // These values are mostly small beside a few 50x outliers per block: most levels are near zero.
    expect(plain.length / deflated.length).toBeGreaterThan(1.3);
    const expected = decompress(update);
    for (const step of [deflated.length, 1, 333, 8192]) expect(decode('int8', deflated, step, undefined, true)).toEqual(expected);
  });

  it('topk: decodes the k pairs into a dense update with zeros elsewhere, at 1 / (2 fraction) fewer bytes', () => {
    const update = topK(values(2), SPEC, K);
    const bytes = bytesOf(update, 1000);
    expect(bytes.length).toBe(compressedByteLength('topk', SPEC, K));
    expect((4 * TOTAL) / bytes.length).toBeGreaterThan(4.99);
    const expected = decompress(update);
    expect(expected.filter((v) => v !== 0).length).toBe(K);
    for (const step of [bytes.length, 3, 8, 9_999]) expect(decode('topk', bytes, step, K)).toEqual(expected);
  });

  it('checks the settings, naming them: method, fraction, and what a task carries', () => {
    expect(compressionRefusal({ method: 'int8' })).toBeUndefined();
    expect(compressionRefusal({ method: 'topk', fraction: 0.1 })).toBeUndefined();
    expect(compressionRefusal({ method: 'topk', fraction: 0.6 })).toMatch(/compression.fraction .* must be in \(0, 0.5\], got 0.6/);
    expect(compressionRefusal({ method: 'topk', fraction: 0 })).toMatch(/compression.fraction/);
    expect(compressionRefusal({ method: 'zip' } as never)).toBe('compression.method must be int8 or topk, got zip');
    expect(readCompressionTask({})).toBeUndefined();
    expect(readCompressionTask({ compression: 'topk', compressionFraction: 0.2, compressionSeed: 5 })).toEqual({ options: { method: 'topk', fraction: 0.2 }, seed: 5 });
    expect(() => readCompressionTask({ compression: 'int8' })).toThrow("the task's compression seed must be an integer, got undefined");
    expect(() => readCompressionTask({ compression: 'topk', compressionSeed: 1 })).toThrow(/the task's compression.fraction/);
  });
});

describe('a hostile compressed upload is refused with the reason, before a bad value is handed on', () => {
  const sparse = () => bytesOf(topK(values(3), SPEC, K));
  const bodyAt = encodedHeaderLength(SPEC);
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  /** Byte offset of top-k pair i (index, then value). */
  const pair = (i: number) => bodyAt + 4 + 8 * i;

  const refused = (method: 'int8' | 'int8d' | 'topk', bytes: Uint8Array, k?: number) => {
    let handed = 0;
    const decoder = new CompressedStreamDecoder(method === 'int8d' ? 'int8' : method, { onSpec: () => undefined, onValues: (_o, run) => void (handed += run.filter((v) => !Number.isFinite(v)).length) }, k, method === 'int8d');
    try {
      decoder.push(bytes);
      decoder.end();
    } catch (e) {
      expect(handed).toBe(0); // no non-finite value ever reached the aggregator
      return (e as Error).message;
    }
    throw new Error('the payload was accepted');
  };

  it('a wrong count: more or fewer pairs than the run keeps, or a count the bytes do not carry', () => {
    const more = sparse();
    view(more).setUint32(bodyAt, K + 1, true);
    expect(refused('topk', more, K)).toBe(`the top-k update carries ${K + 1} values; this run's uploads carry exactly ${K} of ${TOTAL}`);
    const none = sparse();
    view(none).setUint32(bodyAt, 0, true);
    expect(refused('topk', none, K)).toMatch(/carries 0 values/);
    const truncated = sparse().subarray(0, pair(K - 1));
    expect(refused('topk', truncated, K)).toMatch(/the topk payload ended early/);
  });

  it('out-of-range, duplicate and decreasing indices', () => {
    const out = sparse();
    view(out).setUint32(pair(K - 1), TOTAL, true);
    expect(refused('topk', out, K)).toBe(`top-k index ${TOTAL} is out of range: the model has ${TOTAL} values`);
    const duplicate = sparse();
    const first = view(duplicate).getUint32(pair(10), true);
    view(duplicate).setUint32(pair(11), first, true);
    expect(refused('topk', duplicate, K)).toBe(`top-k index ${first} follows index ${first}: indices must be strictly increasing (no duplicates)`);
    const decreasing = sparse();
    view(decreasing).setUint32(pair(11), 0, true);
    expect(refused('topk', decreasing, K)).toMatch(/top-k index 0 follows index \d+: indices must be strictly increasing/);
  });

  it('a NaN or infinite value, a NaN or negative scale, a level of -128', () => {
    const nan = sparse();
    view(nan).setFloat32(pair(5) + 4, Number.NaN, true);
    expect(refused('topk', nan, K)).toMatch(/top-k value at index \d+ is NaN: values must be finite/);
    const quantized = () => bytesOf(quantizeInt8(values(4), SPEC, createSeededRng(1)));
    const block = (b: number) => bodyAt + b * (4 + INT8_BLOCK);
    for (const scale of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      const bad = quantized();
      view(bad).setFloat32(block(3), scale, true);
      expect(refused('int8', bad)).toBe(`int8 block 3 has scale ${scale}: a scale must be finite and not negative`);
    }
    const low = quantized();
    low[block(2) + 4 + 9] = 0x80;
    expect(refused('int8', low)).toBe(`int8 value ${2 * INT8_BLOCK + 9} has level -128, outside -127..127`);
  });

  it('deflated int8: a stream that inflates to more or fewer bytes than the layout, garbage, too many bytes, the undeflated magic', () => {
    const header = bytesOf(quantizeInt8(values(6), SPEC, createSeededRng(1))).subarray(0, bodyAt);
    const deflatedHeader = Uint8Array.from(header);
    deflatedHeader.set([0x43, 0x48, 0x51, 0x5a], 0);
    const withBody = (body: Uint8Array) => Uint8Array.from(Buffer.concat([deflatedHeader, body]));
    const raw = int8BodyLength(TOTAL);
    // A bomb: a few hundred bytes that would inflate to 20 MB; inflation stops at the layout's length.
    expect(refused('int8d', withBody(deflateRawSync(new Uint8Array(20_000_000))))).toMatch(new RegExp(`^the deflated int8 body does not inflate to its ${raw} bytes: `));
    expect(refused('int8d', withBody(deflateRawSync(new Uint8Array(raw - 1))))).toBe(`the deflated int8 body inflates to ${raw - 1} bytes, not the ${raw} its ${TOTAL} values take`);
    expect(refused('int8d', withBody(Uint8Array.from([0xff, 0xff, 0xff, 0x01])))).toMatch(/^the deflated int8 body does not inflate/);
    expect(refused('int8d', withBody(new Uint8Array(raw + 5_000)))).toMatch(/^the deflated int8 body exceeds \d+ bytes, more than its 120300 values can need$/);
    // A NaN scale inside a well-formed deflated body is refused as in an undeflated one.
    const plain = bytesOf(quantizeInt8(values(6), SPEC, createSeededRng(1)));
    view(plain).setFloat32(bodyAt, Number.NaN, true);
    expect(refused('int8d', withBody(deflateRawSync(plain.subarray(bodyAt))))).toBe('int8 block 0 has scale NaN: a scale must be finite and not negative');
    expect(refused('int8d', header)).toBe('not a deflated int8-compressed update (bad magic bytes)');
  });

  it('bytes after the end, a dense payload where a compressed one belongs, the other method', () => {
    const quantized = bytesOf(quantizeInt8(values(5), SPEC, createSeededRng(1)));
    const longer = new Uint8Array(quantized.length + 3);
    longer.set(quantized);
    expect(refused('int8', longer)).toBe('the int8 payload carries 3 bytes after its end');
    const dense = encodeWeights([{ ...SPEC[0]!, data: new Float32Array(120_000) }, { ...SPEC[1]!, data: new Float32Array(300) }]);
    expect(refused('int8', dense)).toBe('not a int8-compressed update (bad magic bytes)');
    expect(refused('topk', quantized, K)).toBe('not a topk-compressed update (bad magic bytes)');
  });
});
