import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  MAX_HEADER_BYTES,
  MAX_TENSORS,
  TensorStreamDecoder,
  WeightsCollector,
  decodeWeights,
  encodeWeights,
  encodeWeightsChunks,
  encodedByteLength,
} from '../../src/protocol/tensorCodec.js';
import { sizeOfShape, specOf, type NamedTensor, type TensorSpec, type Weights } from '../../src/protocol/tensors.js';

// ---- generators ----

/** float32 bit patterns that must survive untouched: -0, subnormals, infinities, NaNs with payloads. */
const SPECIAL_BITS = [
  0x80000000, // -0
  0x00000001, // smallest subnormal
  0x807fffff, // largest negative subnormal
  0x7f800000, // +Infinity
  0xff800000, // -Infinity
  0x7fc00000, // canonical quiet NaN
  0x7fc12345, // quiet NaN with a payload
  0xffffffff, // negative NaN, all payload bits set
  0x7f800001, // signalling NaN
  0x7f7fffff, // largest finite
];

const bitsArb = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(...SPECIAL_BITS));
const nameArb = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
  fc.constantFrom('dense/kernel:0', 'ü', '層', '🧠', '"quoted"\\', 'a\u0000b'),
);
const shapeArb = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 });

function tensorArb(): fc.Arbitrary<NamedTensor> {
  return fc.tuple(nameArb, shapeArb).chain(([name, shape]) => {
    const n = sizeOfShape(shape);
    return fc.array(bitsArb, { minLength: n, maxLength: n }).map((bits): NamedTensor => {
      const data = new Float32Array(new Uint32Array(bits).buffer);
      return { name, shape, data };
    });
  });
}

const weightsArb: fc.Arbitrary<Weights> = fc.array(tensorArb(), { minLength: 0, maxLength: 6 });

// ---- helpers ----

/** Bit patterns, so NaN payloads and -0 compare exactly (toEqual would call every NaN equal). */
function bitsOf(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}

function expectBitwiseEqual(actual: Weights, expected: Weights): void {
  expect(specOf(actual)).toEqual(specOf(expected));
  actual.forEach((t, i) => expect(bitsOf(t.data)).toEqual(bitsOf(expected[i]!.data)));
}

/** Copies `piece` so it sits at byte offset `k` of a larger buffer, as socket.io delivers received Buffers. */
function atOffset(piece: Uint8Array, k: number): Uint8Array {
  return Buffer.concat([Buffer.alloc(k, 0xab), piece]).subarray(k);
}

/** Feeds `bytes` to a streaming decoder in the given pieces; returns the weights and the onValues offsets. */
function decodePieces(pieces: readonly Uint8Array[]): { weights: Weights; offsets: number[]; lengths: number[] } {
  const collector = new WeightsCollector();
  const offsets: number[] = [];
  const lengths: number[] = [];
  const decoder = new TensorStreamDecoder({
    onSpec: (spec) => collector.onSpec(spec),
    onValues: (offset, values) => {
      offsets.push(offset);
      lengths.push(values.length);
      collector.onValues(offset, values);
    },
  });
  for (const p of pieces) decoder.push(p);
  decoder.end();
  return { weights: collector.weights(), offsets, lengths };
}

function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  return pieces;
}

/** A payload whose header section is `header` (raw bytes) followed by `body`. */
function rawPayload(header: Uint8Array | string, body: Uint8Array = new Uint8Array(0), announcedLength?: number): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const pad = (4 - (h.length % 4)) % 4;
  const out = new Uint8Array(8 + h.length + pad + body.length);
  out.set([0x43, 0x48, 0x54, 0x31], 0);
  new DataView(out.buffer).setUint32(4, announcedLength ?? h.length, true);
  out.set(h, 8);
  out.set(body, 8 + h.length + pad);
  return out;
}

const sample: Weights = [
  { name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  { name: 'b', shape: [3], data: Float32Array.from([-1, 0.5, 7]) },
];

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError);
    return e as CodecError;
  }
  throw new Error('expected a CodecError, nothing was thrown');
}

// ---- properties ----

describe('tensor codec round trips (property-based)', () => {
  it('decodeWeights(encodeWeights(w)) preserves names, shapes and every value bit for bit', () => {
    fc.assert(
      fc.property(weightsArb, (weights) => {
        const bytes = encodeWeights(weights);
        expect(bytes.length).toBe(encodedByteLength(weights));
        expectBitwiseEqual(decodeWeights(bytes), weights);
        // Decoding against the sender's own spec is accepted too.
        expectBitwiseEqual(decodeWeights(bytes, specOf(weights)), weights);
      }),
      { numRuns: 300 },
    );
  });

  it('chunked encoding with any chunk size concatenates to the one-buffer encoding', () => {
    fc.assert(
      fc.property(weightsArb, fc.integer({ min: 16, max: 400 }), (weights, chunkBytes) => {
        const chunks = [...encodeWeightsChunks(weights, chunkBytes)];
        chunks.slice(0, -1).forEach((c) => expect(c.length).toBe(chunkBytes));
        expect(chunks.at(-1)!.length).toBeGreaterThan(0);
        expect(chunks.at(-1)!.length).toBeLessThanOrEqual(chunkBytes);
        expect(Buffer.concat(chunks).equals(Buffer.from(encodeWeights(weights)))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('the streaming decoder gives identical results for bytes split at random boundaries and odd offsets', () => {
    fc.assert(
      fc.property(
        weightsArb,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 8 }),
        (weights, cuts, junk) => {
          const bytes = encodeWeights(weights);
          const pieces = splitAt(bytes, cuts).map((p, i) => atOffset(p, junk[i % junk.length]!));
          const { weights: decoded, offsets, lengths } = decodePieces(pieces);
          expectBitwiseEqual(decoded, weights);
          // Values arrive in order, without gaps or overlaps.
          let expectedOffset = 0;
          offsets.forEach((o, i) => {
            expect(o).toBe(expectedOffset);
            expectedOffset += lengths[i]!;
          });
          expect(expectedOffset).toBe(weights.reduce((s, t) => s + t.data.length, 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the streaming decoder accepts one byte at a time, each byte at an odd offset', () => {
    fc.assert(
      fc.property(weightsArb, (weights) => {
        const bytes = encodeWeights(weights);
        const pieces = Array.from(bytes, (_, i) => atOffset(bytes.subarray(i, i + 1), 1 + (i % 3)));
        expectBitwiseEqual(decodePieces(pieces).weights, weights);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps -0, subnormals, infinities and NaN payloads exactly', () => {
    const data = new Float32Array(new Uint32Array(SPECIAL_BITS).buffer);
    const weights: Weights = [{ name: 'special', shape: [SPECIAL_BITS.length], data }];
    const decoded = decodeWeights(encodeWeights(weights))[0]!.data;
    expect(bitsOf(decoded)).toEqual(SPECIAL_BITS);
    expect(Object.is(decoded[0], -0)).toBe(true);
    expect(decoded[1]).toBe(2 ** -149);
    expect(decoded[3]).toBe(Infinity);
    expect(decoded[4]).toBe(-Infinity);
    expect(Number.isNaN(decoded[6])).toBe(true);
  });

  it('encodes tensors that are views into a larger buffer at a non-zero offset', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 9]);
    const view = backing.subarray(2, 5);
    const decoded = decodeWeights(encodeWeights([{ name: 'v', shape: [3], data: view }]));
    expect(Array.from(decoded[0]!.data)).toEqual([1, 2, 3]);
  });
});

// ---- malformed input ----

describe('tensor codec refuses malformed input with a CodecError that says what is wrong', () => {
  it('refuses bad magic bytes', () => {
    const bytes = encodeWeights(sample).slice();
    bytes[0] = 0x58;
    expect(codecError(() => decodeWeights(bytes)).message).toMatch(/bad magic/);
  });

  it('refuses a header length of zero or beyond the limit, before reading it', () => {
    expect(codecError(() => decodeWeights(rawPayload('', new Uint8Array(0), 0))).message).toMatch(/header of 0 bytes is outside 1\.\./);
    const tooLong = rawPayload('{}', new Uint8Array(0), MAX_HEADER_BYTES + 1);
    expect(codecError(() => decodeWeights(tooLong.subarray(0, 8))).message).toMatch(new RegExp(`header of ${MAX_HEADER_BYTES + 1} bytes is outside 1\\.\\.${MAX_HEADER_BYTES}`));
  });

  it('refuses a header that is not UTF-8 JSON or has no tensors array', () => {
    expect(codecError(() => decodeWeights(rawPayload('{oops'))).message).toMatch(/header is not valid UTF-8 JSON/);
    expect(codecError(() => decodeWeights(rawPayload(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])))).message).toMatch(/header is not valid UTF-8 JSON/);
    expect(codecError(() => decodeWeights(rawPayload('{"layers":[]}'))).message).toMatch(/no "tensors" array/);
    expect(codecError(() => decodeWeights(rawPayload('{"tensors":{}}'))).message).toMatch(/no "tensors" array/);
  });

  it('refuses negative, fractional, non-numeric or too many dims, and missing names', () => {
    const header = (t: unknown) => rawPayload(JSON.stringify({ tensors: [t] }));
    expect(codecError(() => decodeWeights(header({ name: 'w', shape: [2, -1] }))).message).toMatch(/tensor "w" has an invalid shape/);
    expect(codecError(() => decodeWeights(header({ name: 'w', shape: [1.5] }))).message).toMatch(/tensor "w" has an invalid shape/);
    expect(codecError(() => decodeWeights(header({ name: 'w', shape: ['2'] }))).message).toMatch(/invalid shape/);
    expect(codecError(() => decodeWeights(header({ name: 'w', shape: [1e300] }))).message).toMatch(/invalid shape/);
    expect(codecError(() => decodeWeights(header({ name: 'w', shape: new Array(9).fill(1) }))).message).toMatch(/invalid shape/);
    expect(codecError(() => decodeWeights(header({ name: 'w' }))).message).toMatch(/invalid shape/);
    expect(codecError(() => decodeWeights(header({ name: '', shape: [] }))).message).toMatch(/tensor 0 has no valid name/);
    expect(codecError(() => decodeWeights(header({ shape: [] }))).message).toMatch(/tensor 0 has no valid name/);
    expect(codecError(() => decodeWeights(header(7))).message).toMatch(/tensor 0 has no valid name/);
  });

  it('refuses more tensors than MAX_TENSORS', () => {
    const json = `{"tensors":[${new Array(MAX_TENSORS + 1).fill('0').join(',')}]}`;
    expect(json.length).toBeLessThan(MAX_HEADER_BYTES); // reaches the tensor-count check, not the size check
    expect(codecError(() => decodeWeights(rawPayload(json))).message).toMatch(new RegExp(`lists ${MAX_TENSORS + 1} tensors, more than ${MAX_TENSORS}`));
  });

  it('refuses a truncated header or body', () => {
    const bytes = encodeWeights(sample);
    expect(codecError(() => decodeWeights(bytes.subarray(0, 0))).message).toMatch(/ended before its header was complete/);
    expect(codecError(() => decodeWeights(bytes.subarray(0, 12))).message).toMatch(/ended before its header was complete/);
    expect(codecError(() => decodeWeights(bytes.subarray(0, bytes.length - 4))).message).toMatch(/payload ended after 8 of 9 values/);
    expect(codecError(() => decodeWeights(bytes.subarray(0, bytes.length - 1))).message).toMatch(/payload ended after 8 of 9 values/);
  });

  it('refuses bytes beyond the announced values', () => {
    const bytes = encodeWeights(sample);
    const extra = (n: number) => Buffer.concat([bytes, Buffer.alloc(n)]);
    expect(codecError(() => decodeWeights(extra(4))).message).toMatch(/carries more than the 9 values its header announces/);
    expect(codecError(() => decodeWeights(extra(8))).message).toMatch(/carries more than the 9 values/);
    // 1-3 stray bytes never form a value; they are still refused.
    for (const n of [1, 2, 3]) codecError(() => decodeWeights(extra(n)));
    // Extra bytes after a payload of zero values, streamed in a separate piece.
    const empty = encodeWeights([{ name: 'z', shape: [0, 3], data: new Float32Array(0) }]);
    expect(codecError(() => decodePieces([empty, new Uint8Array(4)])).message).toMatch(/carries more than the 0 values/);
  });

  it('refuses weights that do not match the expected model, naming the difference', () => {
    const bytes = encodeWeights(sample);
    expect(codecError(() => decodeWeights(bytes, [{ name: 'w', shape: [3, 2] }, { name: 'b', shape: [3] }])).message).toMatch(
      /do not match the model: tensor "w": expected shape \[3, 2\], got \[2, 3\]/,
    );
    expect(codecError(() => decodeWeights(bytes, [{ name: 'w', shape: [2, 3] }])).message).toMatch(/expected 1 tensors, got 2/);
  });

  it('refuses a payload announcing more values than the decoder limit, before any value', () => {
    let values = 0;
    const decoder = new TensorStreamDecoder({ onSpec: () => undefined, onValues: () => void values++ }, 8);
    expect(codecError(() => decoder.push(encodeWeights(sample))).message).toMatch(/announces 9 values, more than the limit of 8/);
    expect(values).toBe(0);
  });

  it('refuses to encode a tensor whose data length does not match its shape', () => {
    const bad: Weights = [{ name: 'k', shape: [2, 2], data: new Float32Array(3) }];
    expect(codecError(() => encodeWeights(bad)).message).toMatch(/tensor "k" has 3 values but shape \[2, 2\] needs 4/);
    expect(codecError(() => [...encodeWeightsChunks(bad, 64)]).message).toMatch(/tensor "k" has 3 values/);
  });

  it('refuses chunk sizes below 16 bytes or not integers', () => {
    expect(codecError(() => [...encodeWeightsChunks(sample, 15)]).message).toMatch(/chunkBytes must be an integer >= 16, got 15/);
    expect(codecError(() => [...encodeWeightsChunks(sample, 64.5)]).message).toMatch(/chunkBytes must be an integer >= 16/);
  });

  it('lets a handler refuse the spec before any value is read', () => {
    let values = 0;
    const decoder = new TensorStreamDecoder({
      onSpec: (spec: TensorSpec[]) => {
        throw new CodecError(`refusing ${spec.length} tensors`);
      },
      onValues: () => void values++,
    });
    expect(codecError(() => decoder.push(encodeWeights(sample))).message).toBe('refusing 2 tensors');
    expect(values).toBe(0);
  });
});
