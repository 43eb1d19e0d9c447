import { CkksClientSide, type CkksEncryptedUpdate } from '../../src/crypto/ckks/clientSide.js';
import { CkksContext } from '../../src/crypto/ckks/ckksContext.js';
import { CkksEvaluatorSide } from '../../src/crypto/ckks/evaluatorSide.js';
import { ciphertextFrameChunks } from '../../src/crypto/ckks/frames.js';

/** Deterministic values in [-scale, scale) (xorshift32), distinct per seed. */
export function randomValues(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 * 2 - 1) * scale;
  }
  return out;
}

/** Streams one update into the evaluator as the transport would: framed, in chunks of `chunkBytes`. */
export function upload(evaluator: CkksEvaluatorSide, update: CkksEncryptedUpdate, chunkBytes = 1 << 20): void {
  const sink = evaluator.accept();
  for (const chunk of ciphertextFrameChunks(update.ciphertexts, chunkBytes)) sink.write(chunk);
  sink.commit();
}

/** The coordinator's seeded sum of `updates` of `n` values each, streamed in as the transport would. */
export function sumOf(ctx: CkksContext, n: number, updates: readonly CkksEncryptedUpdate[]): Uint8Array[] {
  const evaluator = new CkksEvaluatorSide(ctx, n);
  try {
    for (const update of updates) upload(evaluator, update);
    return evaluator.serializeSum();
  } finally {
    evaluator.dispose();
  }
}

/** A real SEAL context, a dealer that generated the key, and another client holding the key the dealer exported. */
export interface CkksKeyHolders {
  readonly ctx: CkksContext;
  readonly dealer: CkksClientSide;
  readonly other: CkksClientSide;
}

export async function openKeyHolders(): Promise<CkksKeyHolders> {
  const ctx = await CkksContext.create();
  const dealer = CkksClientSide.generate(ctx);
  // In a federation the exported key travels in a key box the coordinator relays.
  const other = CkksClientSide.importSecretKey(ctx, dealer.exportSecretKey());
  return { ctx, dealer, other };
}

/** Frees the SEAL objects, the clients before their context. */
export function closeKeyHolders(holders: CkksKeyHolders): void {
  holders.other.dispose();
  holders.dealer.dispose();
  holders.ctx.dispose();
}
