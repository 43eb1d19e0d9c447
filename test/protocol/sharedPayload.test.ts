import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeGlobal } from '../../src/coordinator/encodeGlobal.js';
import { SharedPayload } from '../../src/protocol/sharedPayload.js';
import { encodeWeights } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';

/** 300k parameters in two tensors, values that differ everywhere, cut into 64 KiB chunks (19 of them). */
const PARAMS = 300_000;
const model = (): Weights => {
  const a = Float32Array.from({ length: 200_000 }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: PARAMS - 200_000 }, (_, i) => i / 7);
  return [
    { name: 'dense/kernel', shape: [400, 500], data: a },
    { name: 'dense/bias', shape: [100_000], data: b },
  ];
};
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('SharedPayload', () => {
  it('hashes nothing up front: the global is hashed chunk by chunk as the first stream sends it', () => {
    const payload = encodeGlobal(model(), 1 << 16);
    expect(payload.chunks.length).toBeGreaterThan(10);
    expect(payload.chunksHashed).toBe(0);
    const stream = payload.stream();
    stream.next();
    stream.next();
    expect(payload.chunksHashed).toBe(2);
  });

  it('states the SHA-256 of exactly the encoded bytes, however its streams interleave', () => {
    const weights = model();
    const expected = sha256Of(encodeWeights(weights));
    const payload = encodeGlobal(weights, 1 << 16);
    const [a, b] = [payload.stream(), payload.stream()];
    const got: Uint8Array[][] = [[], []];
    // b runs ahead by five chunks, then a overtakes it: each chunk is hashed once, in order.
    for (let i = 0; i < 5; i++) got[1]!.push(b.next().value as Uint8Array);
    for (const chunk of a) got[0]!.push(chunk);
    for (const chunk of b) got[1]!.push(chunk);
    expect(payload.sha256).toBe(expected);
    for (const chunks of got) expect(sha256Of(Buffer.concat(chunks))).toBe(expected);
  });

  it('reading the SHA-256 before any stream hashes everything, and streams after it hash nothing twice', () => {
    const weights = model();
    const payload = encodeGlobal(weights, 1 << 16);
    const digest = payload.sha256;
    expect(payload.chunksHashed).toBe(payload.chunks.length);
    expect(Buffer.concat([...payload.stream()]).equals(Buffer.from(encodeWeights(weights)))).toBe(true);
    expect(payload.sha256).toBe(digest);
    expect(digest).toBe(sha256Of(encodeWeights(weights)));
  });

  it('an empty payload has the SHA-256 of no bytes', () => {
    expect(new SharedPayload([], 0).sha256).toBe(sha256Of(new Uint8Array(0)));
  });
});
