import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addPacked, packBits, packedLength, reduceMod, unpackBits } from '../../../src/crypto/secagg/bitPacking.js';

/** The packing spelt out one bit at a time (value i's bit j is bit i x bits + j of the string, LSB first). */
function packSlowly(values: Uint32Array, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  for (let i = 0; i < values.length; i++) {
    for (let j = 0; j < bits; j++) {
      if (Math.floor(values[i]! / 2 ** j) % 2 === 1) out[(i * bits + j) >> 3]! |= 1 << ((i * bits + j) & 7);
    }
  }
  return out;
}

const randomWords = (count: number) => new Uint32Array(randomBytes(4 * count).buffer);

describe('packing values of Z_(2^bits) at bits bits each', () => {
  it('matches the bit-by-bit layout at every width from 1 to 32, for counts that end mid-byte', () => {
    for (let bits = 1; bits <= 32; bits++) {
      for (const count of [0, 1, 7, 8, 9, 1001]) {
        const values = randomWords(count);
        const packed = packBits(values, bits);
        expect(packed.length).toBe(Math.ceil((count * bits) / 8));
        expect(Buffer.from(packed).equals(Buffer.from(packSlowly(values, bits)))).toBe(true);
        const reduced = values.slice();
        reduceMod(reduced, bits);
        expect(unpackBits(packed, count, bits)).toEqual(reduced);
      }
    }
  });

  it('at 8, 16 and 32 bits is plain little-endian integers', () => {
    const values = randomWords(1000);
    expect(Buffer.from(packBits(values, 32)).equals(Buffer.from(values.buffer))).toBe(true);
    expect(Buffer.from(packBits(values, 16)).equals(Buffer.from(Uint16Array.from(values, (v) => v & 0xffff).buffer))).toBe(true);
    expect(Buffer.from(packBits(values, 8)).equals(Buffer.from(Uint8Array.from(values, (v) => v & 0xff)))).toBe(true);
  });

  it('adds packed values onto a sum mod 2^32 that, reduced mod 2^bits, is the sum in Z_(2^bits)', () => {
    for (const bits of [8, 13, 16, 20, 24, 27, 32]) {
      const a = randomWords(5_000);
      const b = randomWords(5_000);
      const sum = new Uint32Array(5_000);
      addPacked(sum, packBits(a, bits), bits);
      addPacked(sum, packBits(b, bits), bits);
      reduceMod(sum, bits);
      for (const i of [0, 1, 2_499, 4_999]) expect(sum[i]).toBe(Number((BigInt(a[i]!) + BigInt(b[i]!)) % 2n ** BigInt(bits)));
    }
  });

  it('refuses a packed string of the wrong length, naming the length expected, and non-zero padding', () => {
    const packed = packBits(randomWords(100_001), 20);
    expect(packed.length).toBe(250_003);
    expect(() => addPacked(new Uint32Array(100_001), packed.subarray(0, 250_002), 20)).toThrow(/100001 values at 20 bits pack into 250003 bytes, got 250002/);
    expect(() => addPacked(new Uint32Array(100_001), new Uint8Array(250_004), 20)).toThrow(/pack into 250003 bytes, got 250004/);
    // 100,001 x 20 bits leaves 4 spare bits in the last byte: a set one would be a second encoding of the same values.
    const tampered = packed.slice();
    tampered[tampered.length - 1]! |= 0x80;
    expect(() => addPacked(new Uint32Array(100_001), tampered, 20)).toThrow(/the last 4 padding bits of the packed values are not zero/);
    expect(() => packedLength(10, 0)).toThrow(/1 to 32 bits/);
    expect(() => packedLength(10, 33)).toThrow(/1 to 32 bits/);
  });
});
