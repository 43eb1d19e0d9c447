import fc from 'fast-check';

/** Largest binary value the fuzzers send (bytes), well under the coordinator's socket buffer limit. */
export const MAX_FUZZ_BINARY_BYTES = 64 * 1024;

/**
 * `length` pseudo-random bytes from `seed` (xorshift32): large binary values whose content still follows
 * fast-check's seed, without drawing 64 Ki bytes one by one.
 */
export function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let s = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** Float values whose bit patterns JSON cannot carry: they only reach the other side as binary. */
const awkwardFloats = fc.oneof(fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 3.4e38, 1e-45), fc.double());

/** Binary values of random sizes up to 64 KiB: Buffers, Uint8Arrays, and float arrays holding NaN and infinities. */
export const binaryValue: fc.Arbitrary<Uint8Array | Float32Array | Float64Array> = fc.oneof(
  fc.tuple(fc.nat(MAX_FUZZ_BINARY_BYTES), fc.integer()).map(([n, seed]) => seededBytes(n, seed)),
  fc.uint8Array({ maxLength: 32 }),
  fc.array(awkwardFloats, { maxLength: 64 }).map((v) => Float32Array.from(v)),
  fc.array(awkwardFloats, { maxLength: 16 }).map((v) => Float64Array.from(v)),
);

/** Arrays or objects nested up to 3000 deep, with a leaf that may be binary (socket.io walks binary recursively). */
export const deepValue: fc.Arbitrary<unknown> = fc
  .record({ depth: fc.integer({ min: 16, max: 3000 }), asObject: fc.boolean(), leaf: fc.oneof(fc.string(), fc.integer(), fc.uint8Array({ maxLength: 8 })) })
  .map(({ depth, asObject, leaf }) => {
    let value: unknown = leaf;
    for (let i = 0; i < depth; i++) value = asObject ? { type: 'hello', v: value } : [value];
    return value;
  });

/** Small values of every JSON type, and binary, to put where a field of another type belongs. */
export const smallValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 }),
  fc.uint8Array({ maxLength: 8 }),
);

/**
 * Anything a socket.io client can put in an event: structured values of every kind (null-prototype objects,
 * sparse arrays, boxed values, typed arrays), unrestricted Unicode strings, numbers, binary and deep nesting.
 * BigInts are left out: socket.io-client cannot serialize them at all, so they never reach the wire.
 */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.anything({
      withTypedArray: true,
      withNullPrototype: true,
      withSparseArray: true,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withUnicodeString: true,
      withObjectString: true,
    }),
    weight: 5,
  },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 2_000 }), weight: 1 },
  { arbitrary: fc.oneof(fc.double(), fc.integer(), fc.constantFrom(2 ** 53, -(2 ** 63), Number.MAX_VALUE, Number.MIN_VALUE)), weight: 1 },
  { arbitrary: binaryValue, weight: 2 },
  { arbitrary: deepValue, weight: 1 },
);
