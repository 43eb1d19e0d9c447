import { describe, expect, it } from 'vitest';
import { CkksError } from '../../../src/crypto/ckks/ckksError.js';
import { CiphertextFrameParser, ciphertextFrameChunks, encodeCiphertextFrames, framedByteLength } from '../../../src/crypto/ckks/frames.js';

/** Deterministic pseudo-random bytes (xorshift32). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

function splitAt(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
  return points.slice(1).map((end, i) => stream.subarray(points[i]!, end));
}

describe('ciphertext frames', () => {
  const ciphertexts = [bytes(1000, 1), bytes(1, 2), bytes(3001, 3), bytes(17, 4)];
  const stream = encodeCiphertextFrames(ciphertexts);

  it('lays out "CKS1" then u32 little-endian lengths, each before its ciphertext', () => {
    expect(stream.length).toBe(framedByteLength(ciphertexts));
    expect(stream.length).toBe(4 + 4 * 4 + 1000 + 1 + 3001 + 17);
    expect(Buffer.from(stream.subarray(0, 4)).toString('latin1')).toBe('CKS1');
    expect(new DataView(stream.buffer).getUint32(4, true)).toBe(1000);
    expect(stream.subarray(8, 1008)).toEqual(ciphertexts[0]);
    expect(new DataView(stream.buffer).getUint32(1008, true)).toBe(1);
  });

  it('chunks of a fixed size concatenate to the one-buffer encoding', () => {
    for (const size of [16, 17, 1000, 1 << 20]) {
      const chunks = [...ciphertextFrameChunks(ciphertexts, size)];
      expect(chunks.slice(0, -1).every((c) => c.length === size)).toBe(true);
      expect(Buffer.concat(chunks)).toEqual(Buffer.from(stream));
    }
  });

  it('parses the stream split at every single byte boundary and at random ones', () => {
    const splits: number[][] = [];
    for (let cut = 1; cut < stream.length; cut++) splits.push([cut]);
    let s = 7;
    for (let t = 0; t < 200; t++) {
      const cuts: number[] = [];
      for (let k = 0; k < 1 + (t % 9); k++) {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        cuts.push(s % stream.length);
      }
      splits.push(cuts);
    }
    splits.push(Array.from({ length: stream.length - 1 }, (_, i) => i + 1)); // one byte at a time
    for (const cuts of splits) {
      const parser = new CiphertextFrameParser(4096);
      const got = splitAt(stream, cuts).flatMap((chunk) => parser.push(chunk));
      parser.end();
      expect(got).toEqual(ciphertexts);
      expect(parser.count).toBe(ciphertexts.length);
    }
  });

  it('copies each ciphertext out, so the transport may reuse its chunk buffers', () => {
    const copy = new Uint8Array(stream);
    const parser = new CiphertextFrameParser(4096);
    const got = parser.push(copy);
    copy.fill(0);
    expect(got).toEqual(ciphertexts);
  });

  it('refuses a stream that is not CKKS, a hostile length, an empty frame, and a truncated end', () => {
    const plaintextUpdate = Uint8Array.from([0x43, 0x48, 0x54, 0x31, 0, 0, 0, 0]); // "CHT1", tensorCodec's magic
    expect(() => new CiphertextFrameParser(4096).push(plaintextUpdate)).toThrow(/bad magic/);
    const huge = new Uint8Array(stream);
    new DataView(huge.buffer).setUint32(4, 0xffff_fff0, true);
    expect(() => new CiphertextFrameParser(4096).push(huge)).toThrow(/claims 4294967280 bytes; expected 1 to 4096/);
    const empty = Uint8Array.from([0x43, 0x4b, 0x53, 0x31, 0, 0, 0, 0]);
    expect(() => new CiphertextFrameParser(4096).push(empty)).toThrow(CkksError);
    const truncated = new CiphertextFrameParser(4096);
    truncated.push(stream.subarray(0, 500));
    expect(() => truncated.end()).toThrow(/ended inside ciphertext 0/);
    const headerOnly = new CiphertextFrameParser(4096);
    headerOnly.push(stream.subarray(0, 2));
    expect(() => headerOnly.end()).toThrow(/before its header/);
  });
});
