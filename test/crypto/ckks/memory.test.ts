import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plaintext } from 'node-seal';
import { CkksClientSide } from '../../../src/crypto/ckks/clientSide.js';
import { CkksContext } from '../../../src/crypto/ckks/ckksContext.js';
import { DEFAULT_CKKS_PARAMETERS } from '../../../src/crypto/ckks/ckksParameters.js';
import { CkksEvaluatorSide } from '../../../src/crypto/ckks/evaluatorSide.js';
import { encodeCiphertextFrames } from '../../../src/crypto/ckks/frames.js';
import { sealHeapBytes } from '../../../src/crypto/ckks/sealRuntime.js';

/**
 * The wasm heap never shrinks, and grows by 20% (Emscripten's geometric step, about 4 MB here) once
 * malloc runs out. So: fill it to the brim with ballast, then any leak larger than the room left (under
 * one step) makes it grow. Over 1,000 cycles that catches a leak of about 4 KiB a cycle; one SEAL
 * ciphertext of these parameters is 64 KiB.
 */
const GROWTH_BOUND = 1 << 20;

let ctx: CkksContext;
let client: CkksClientSide;
const n = 4000; // two ciphertexts
const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i) / 10);
const ballast: Plaintext[] = [];

function heap(): number {
  const bytes = sealHeapBytes();
  if (bytes === undefined) throw new Error('the wasm heap size is not observable');
  return bytes;
}

/** One round: a client encrypts, the coordinator adds and serializes, the client decrypts. */
function cycle(options: { disposeEvaluator: boolean }): void {
  const update = client.encryptScaled(values, 3);
  const evaluator = new CkksEvaluatorSide(ctx, n);
  const sink = evaluator.accept();
  sink.write(encodeCiphertextFrames(update.ciphertexts));
  sink.commit();
  const mean = client.decryptSum(evaluator.serializeSum(), n, 3);
  if (Math.abs(mean[1]! - values[1]!) > 1e-6) throw new Error('wrong sum');
  if (options.disposeEvaluator) evaluator.dispose();
}

/** Allocates 32 KiB plaintexts until the heap grows once: what is left free is then under one growth step. */
function fillHeap(): void {
  const start = heap();
  while (heap() === start) ballast.push(new ctx.seal.Plaintext(4096));
}

beforeAll(async () => {
  ctx = await CkksContext.create();
  client = CkksClientSide.generate(ctx);
});

afterAll(() => {
  for (const p of ballast) p.delete();
  client.dispose();
  ctx.dispose();
});

describe('wasm heap (real node-seal)', () => {
  it('stays flat over 1,000 encrypt/add/decrypt cycles', () => {
    fillHeap();
    for (let i = 0; i < 20; i++) cycle({ disposeEvaluator: true });
    const before = heap();
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) cycle({ disposeEvaluator: true });
    const after = heap();
    console.log(`1000 cycles in ${((performance.now() - t0) / 1000).toFixed(1)} s: wasm heap ${before} -> ${after} bytes (+${after - before})`);
    expect(after - before).toBeLessThan(GROWTH_BOUND);
  });

  it('stays flat over 100 context + key generation + key import set-ups and tear-downs', async () => {
    fillHeap();
    const setUp = async () => {
      const other = await CkksContext.create({ ...DEFAULT_CKKS_PARAMETERS, maxContributors: 10 });
      const dealer = CkksClientSide.generate(other);
      const peer = CkksClientSide.importSecretKey(other, dealer.exportSecretKey());
      peer.dispose();
      dealer.dispose();
      other.dispose();
    };
    for (let i = 0; i < 5; i++) await setUp();
    const before = heap();
    for (let i = 0; i < 100; i++) await setUp();
    const after = heap();
    console.log(`100 set-ups: wasm heap ${before} -> ${after} bytes (+${after - before})`);
    expect(after - before).toBeLessThan(GROWTH_BOUND);
  });

  it('the same check fails when the per-round evaluator is not disposed', () => {
    fillHeap();
    const before = heap();
    for (let i = 0; i < 200; i++) cycle({ disposeEvaluator: false });
    const after = heap();
    console.log(`200 leaky cycles: wasm heap ${before} -> ${after} bytes (+${after - before})`);
    expect(after - before).toBeGreaterThan(GROWTH_BOUND);
  });

  it('the same check fails when one raw SEAL ciphertext a cycle is not deleted', () => {
    fillHeap();
    const before = heap();
    const update = client.encrypt(values);
    for (let i = 0; i < 200; i++) {
      const loaded = new ctx.seal.Ciphertext();
      loaded.loadFromArray(ctx.context, update.ciphertexts[0]);
      // loaded.delete() skipped
    }
    const after = heap();
    console.log(`200 undeleted ciphertexts: wasm heap ${before} -> ${after} bytes (+${after - before})`);
    expect(after - before).toBeGreaterThan(GROWTH_BOUND);
  });
});
