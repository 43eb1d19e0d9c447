/**
 * CKKS secure aggregation cost, 1M parameters by default: each step through Cohort's CKKS layer
 * (src/crypto/ckks/) next to raw node-seal calls in the same run, and next to the plaintext path (float32
 * bytes, a float64 add). The raw path is node-seal's textbook one, SEAL's CKKSEncoder (N/2 slots a ciphertext)
 * and a fresh encryption each; Cohort encodes N coefficients a ciphertext (coefficientEncoding.ts), so its
 * ratio is the framework's overhead (goal at most 1.2x) less what the packing saves.
 * Only same-run ratios are compared (the machines are noisy).
 *
 *   npx tsx bench/ckks.ts [--params 1_000_000] [--clients 5] [--runs 5] [--warmup 1] [--chunk-bytes 1048576]
 */
import type { CKKSEncoder, Ciphertext, Decryptor, Encryptor, Evaluator, Plaintext, SecretKey } from 'node-seal';
import { addWeighted } from '../src/coordinator/aggregation/streamingMean.js';
import { CkksClientSide, type CkksEncryptedUpdate } from '../src/crypto/ckks/clientSide.js';
import { CkksContext } from '../src/crypto/ckks/ckksContext.js';
import type { CkksCompression } from '../src/crypto/ckks/ckksParameters.js';
import { CkksEvaluatorSide } from '../src/crypto/ckks/evaluatorSide.js';
import { ciphertextFrameChunks, framedByteLength } from '../src/crypto/ckks/frames.js';
import { sealHeapBytes } from '../src/crypto/ckks/sealRuntime.js';
import { DEFAULT_CHUNK_BYTES } from '../src/protocol/peer.js';
import { encodeWeightsChunks, encodedByteLength } from '../src/protocol/tensorCodec.js';
import { benchArgs } from './lib/args.js';
import { isMain } from './lib/isMain.js';
import { maxRssBytes } from './lib/rss.js';
import { median, timeRuns } from './lib/stats.js';
import { formatTable, mb, ratio } from './lib/table.js';

export interface CkksBenchOptions {
  readonly params: number;
  readonly clients: number;
  readonly runs: number;
  readonly warmup: number;
  readonly chunkBytes: number;
}

/** Deterministic values in [-0.05, 0.05) (xorshift32), distinct per client: the size of a model delta. */
function randomUpdate(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 31 - 1) * 0.05;
  }
  return out;
}

/** The same SEAL operations as Cohort's CKKS layer, called directly: no checks, clipping, framing or rollback. */
class RawSeal {
  private readonly encryptor: Encryptor;
  private readonly decryptor: Decryptor;
  private readonly encoder: CKKSEncoder;
  private readonly evaluator: Evaluator;
  private readonly plain: Plaintext;
  private readonly incoming: Ciphertext;
  private readonly key: SecretKey;
  private readonly slots: Float64Array;

  constructor(private readonly ctx: CkksContext, secretKey: Uint8Array) {
    const seal = ctx.seal;
    this.key = new seal.SecretKey();
    this.key.loadFromArray(ctx.context, secretKey);
    const generator = new seal.KeyGenerator(ctx.context, this.key);
    const publicKey = generator.createPublicKey();
    this.encryptor = new seal.Encryptor(ctx.context, publicKey, this.key);
    publicKey.delete();
    generator.delete();
    this.decryptor = new seal.Decryptor(ctx.context, this.key);
    this.encoder = new seal.CKKSEncoder(ctx.context);
    this.evaluator = new seal.Evaluator(ctx.context);
    this.plain = new seal.Plaintext();
    this.incoming = new seal.Ciphertext();
    this.slots = new Float64Array(ctx.parameters.polyModulusDegree / 2);
  }

  encrypt(values: Float32Array, weight: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const slots = this.slots.length;
    for (let from = 0; from < values.length; from += slots) {
      const end = Math.min(values.length, from + slots);
      for (let i = from; i < end; i++) this.slots[i - from] = weight * values[i]!;
      this.slots.fill(0, end - from);
      this.encoder.encode(this.slots, this.ctx.scale, this.plain);
      const seeded = this.encryptor.encryptSymmetricSerializable(this.plain);
      out.push(seeded.saveToArray(this.ctx.comprMode) as Uint8Array);
      seeded.delete();
    }
    return out;
  }

  /** Adds one update's ciphertexts into `sum` (created on the first update). */
  add(sum: Ciphertext[], ciphertexts: readonly Uint8Array[]): void {
    ciphertexts.forEach((bytes, index) => {
      const current = sum[index];
      if (current === undefined) {
        const first = new this.ctx.seal.Ciphertext();
        first.loadFromArray(this.ctx.context, bytes);
        sum[index] = first;
      } else {
        this.incoming.loadFromArray(this.ctx.context, bytes);
        this.evaluator.addInplace(current, this.incoming);
      }
    });
  }

  serialize(sum: readonly Ciphertext[]): Uint8Array[] {
    return sum.map((c) => c.saveToArray(this.ctx.comprMode) as Uint8Array);
  }

  decrypt(sum: readonly Uint8Array[], count: number, totalWeight: number): Float32Array {
    const out = new Float32Array(count);
    const slots = this.slots.length;
    sum.forEach((bytes, index) => {
      this.incoming.loadFromArray(this.ctx.context, bytes);
      this.decryptor.decrypt(this.incoming, this.plain);
      const decoded = this.encoder.decodeFloat64(this.plain) as Float64Array;
      const from = index * slots;
      const n = Math.min(slots, count - from);
      for (let j = 0; j < n; j++) out[from + j] = decoded[j]! / totalWeight;
    });
    return out;
  }

  dispose(): void {
    for (const x of [this.encryptor, this.decryptor, this.encoder, this.evaluator, this.plain, this.incoming, this.key]) x.delete();
  }
}

interface Row {
  readonly step: string;
  readonly plain: number | undefined;
  readonly raw: number;
  readonly cohort: number;
  readonly unit: 'ms' | 'bytes';
}

function maxError(a: Float32Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Bytes and time of one mode of SEAL serialization, over `count` ciphertexts of Cohort's own path. */
async function compressionRow(mode: CkksCompression, values: Float32Array): Promise<string[]> {
  const ctx = await CkksContext.create({ compression: mode });
  const client = CkksClientSide.generate(ctx);
  let update: CkksEncryptedUpdate | undefined;
  const encryptSeconds = median(await timeRuns(1, 3, () => (update = client.encrypt(values))));
  const addSeconds = median(
    await timeRuns(1, 3, () => {
      const evaluator = new CkksEvaluatorSide(ctx, values.length);
      const sink = evaluator.accept();
      for (const chunk of ciphertextFrameChunks(update!.ciphertexts, DEFAULT_CHUNK_BYTES)) sink.write(chunk);
      sink.commit();
      evaluator.dispose();
    }),
  );
  const perValue = framedByteLength(update!.ciphertexts) / values.length;
  client.dispose();
  ctx.dispose();
  const per1M = (seconds: number) => `${((seconds * 1000 * 1e6) / values.length).toFixed(0)} ms`;
  return [mode, perValue.toFixed(2), `${(perValue / 4).toFixed(3)}x`, per1M(encryptSeconds), per1M(addSeconds)];
}

export async function benchCkks(o: CkksBenchOptions): Promise<void> {
  console.log(`\n## CKKS secure aggregation: ${o.clients} clients x ${o.params.toLocaleString('en')} float32 params, ${o.chunkBytes}-byte chunks`);
  console.log(`node ${process.version}; median of ${o.runs} runs after ${o.warmup} warm-up; raw and Cohort alternate run by run`);
  let t0 = performance.now();
  const ctx = await CkksContext.create();
  const initMs = performance.now() - t0;
  t0 = performance.now();
  const dealer = CkksClientSide.generate(ctx);
  const keygenMs = performance.now() - t0;
  const secretKey = dealer.exportSecretKey();
  const raw = new RawSeal(ctx, secretKey);
  const p = ctx.parameters;
  console.log(
    `parameters: N = ${p.polyModulusDegree} (${ctx.parameters.polyModulusDegree / 2} slots a ciphertext in this raw baseline), primes ${p.coeffModulusBits.join('+')} bits, scale 2^${p.scaleBits}, ` +
      `${p.compression}; node-seal load + context ${initMs.toFixed(0)} ms, key generation + client setup ${keygenMs.toFixed(0)} ms`,
  );

  const n = o.params;
  const updates = Array.from({ length: o.clients }, (_, k) => randomUpdate(n, k + 1));
  const weights = updates.map((_, k) => 10 + (k % 7) * 13);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const spec = [{ name: 'w', shape: [n] }];
  const time = async (fn: () => unknown) => median(await timeRuns(o.warmup, o.runs, fn)) * 1000;
  /** Raw and Cohort alternately, run by run, so drift on a noisy machine hits both alike. Medians in ms. */
  const pair = (rawFn: () => unknown, cohortFn: () => unknown): [number, number] => {
    for (let i = 0; i < o.warmup; i++) {
      rawFn();
      cohortFn();
    }
    const r: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      for (const [fn, into] of i % 2 ? ([[cohortFn, c], [rawFn, r]] as const) : ([[rawFn, r], [cohortFn, c]] as const)) {
        const t = performance.now();
        fn();
        into.push(performance.now() - t);
      }
    }
    return [median(r), median(c)];
  };

  // Client: weight, encode, encrypt (seeded, symmetric), serialize; plaintext: the float32 wire encoding.
  const plainEncrypt = await time(() => [...encodeWeightsChunks([{ name: 'w', shape: [n], data: updates[0]! }], o.chunkBytes)]);
  const [rawEncrypt, cohortEncrypt] = pair(
    () => raw.encrypt(updates[0]!, weights[0]!),
    () => [...ciphertextFrameChunks(dealer.encryptScaled(updates[0]!, weights[0]!).ciphertexts, o.chunkBytes)],
  );

  const encrypted = updates.map((u, k) => dealer.encryptScaled(u, weights[k]!));
  const rawEncrypted = updates.map((u, k) => raw.encrypt(u, weights[k]!));
  const chunks = encrypted.map((e) => [...ciphertextFrameChunks(e.ciphertexts, o.chunkBytes)]);
  const clipped = encrypted.reduce((a, e) => a + e.clipped, 0);

  // Coordinator: every client's update into the running sum (per client below); plaintext: f64 weighted add.
  const plainSum = new Float64Array(n);
  const plainAdd = await time(() => {
    plainSum.fill(0);
    updates.forEach((u, k) => addWeighted(plainSum, u, weights[k]!));
  });
  let sum: Uint8Array[] = [];
  let rawSum: Uint8Array[] = [];
  const [rawAdd, cohortAdd] = pair(
    () => {
      const sum: Ciphertext[] = [];
      for (const cts of rawEncrypted) raw.add(sum, cts);
      for (const c of sum) c.delete();
    },
    () => {
      const evaluator = new CkksEvaluatorSide(ctx, n);
      for (const update of chunks) {
        const sink = evaluator.accept();
        for (const chunk of update) sink.write(chunk);
        sink.commit();
      }
      evaluator.dispose();
    },
  );

  // Coordinator: serialize the sum for the clients.
  const evaluator = new CkksEvaluatorSide(ctx, n);
  for (const update of chunks) {
    const sink = evaluator.accept();
    for (const chunk of update) sink.write(chunk);
    sink.commit();
  }
  const rawSumCts: Ciphertext[] = [];
  for (const cts of rawEncrypted) raw.add(rawSumCts, cts);
  const plainSerialize = await time(() => [...encodeWeightsChunks([{ name: 'w', shape: [n], data: new Float32Array(plainSum) }], o.chunkBytes)]);
  const [rawSerialize, cohortSerialize] = pair(
    () => (rawSum = raw.serialize(rawSumCts)),
    () => (sum = evaluator.serializeSum()),
  );
  for (const c of rawSumCts) c.delete();
  evaluator.dispose();

  // Client: decrypt and average; plaintext: divide the sum by the total weight.
  const plainMean = new Float32Array(n);
  const plainDecrypt = await time(() => {
    for (let i = 0; i < n; i++) plainMean[i] = plainSum[i]! / totalWeight;
  });
  let mean: Float32Array = new Float32Array(0);
  const [rawDecrypt, cohortDecrypt] = pair(
    () => raw.decrypt(rawSum, n, totalWeight),
    () => (mean = dealer.decryptSum(sum, n, totalWeight)),
  );
  const expected = Float64Array.from(plainSum, (v) => v / totalWeight);

  const perClient = (ms: number) => ms / o.clients;
  const rows: Row[] = [
    { step: 'client: weight+encode+encrypt+serialize', plain: plainEncrypt, raw: rawEncrypt, cohort: cohortEncrypt, unit: 'ms' },
    { step: 'coordinator: add one update (per client)', plain: perClient(plainAdd), raw: perClient(rawAdd), cohort: perClient(cohortAdd), unit: 'ms' },
    { step: 'coordinator: serialize the sum', plain: plainSerialize, raw: rawSerialize, cohort: cohortSerialize, unit: 'ms' },
    { step: 'client: decrypt + average', plain: plainDecrypt, raw: rawDecrypt, cohort: cohortDecrypt, unit: 'ms' },
    {
      step: 'bytes: one update on the wire',
      plain: encodedByteLength(spec),
      raw: rawEncrypted[0]!.reduce((a, c) => a + c.length, 0),
      cohort: framedByteLength(encrypted[0]!.ciphertexts),
      unit: 'bytes',
    },
    { step: 'bytes: the sum on the wire', plain: encodedByteLength(spec), raw: rawSum.reduce((a, c) => a + c.length, 0), cohort: framedByteLength(sum), unit: 'bytes' },
  ];
  const show = (v: number | undefined, unit: Row['unit']) => (v === undefined ? '-' : unit === 'ms' ? `${v.toFixed(v < 10 ? 2 : 0)} ms` : `${(v / 1e6).toFixed(2)} MB`);
  console.log();
  console.log(
    formatTable(
      ['step', 'plaintext', 'raw node-seal', 'Cohort CKKS', 'Cohort / raw', 'Cohort / plaintext'],
      rows.map((r) => [r.step, show(r.plain, r.unit), show(r.raw, r.unit), show(r.cohort, r.unit), ratio(r.cohort / r.raw), r.plain === undefined ? '-' : ratio(r.cohort / r.plain)]),
    ),
  );
  console.log();
  const perValue = framedByteLength(encrypted[0]!.ciphertexts) / n;
  console.log(`update: ${encrypted[0]!.ciphertexts.length} ciphertexts, ${perValue.toFixed(2)} bytes/value = ${(perValue / 4).toFixed(3)}x float32; clipped values: ${clipped}`);
  console.log(`result: max |CKKS mean - float64 plaintext mean| = ${maxError(mean, expected).toExponential(2)} over ${n.toLocaleString('en')} values (float32 output)`);
  console.log(`memory: wasm heap ${mb(sealHeapBytes() ?? 0)}, peak RSS ${mb(maxRssBytes())}`);

  console.log('\nserialization mode (200k values, Cohort path; add = one update into an empty sum, scaled to 1M values):');
  const sample = randomUpdate(Math.min(n, 200_000), 99);
  const modes: string[][] = [];
  for (const mode of ['zstd', 'zlib', 'none'] as const) modes.push(await compressionRow(mode, sample));
  console.log(formatTable(['mode', 'bytes/value', 'vs float32', 'encrypt / 1M', 'add / 1M'], modes));

  raw.dispose();
  dealer.dispose();
  ctx.dispose();
}

if (isMain(import.meta.url)) {
  const args = benchArgs(['params', 'clients', 'runs', 'warmup', 'chunk-bytes']);
  await benchCkks({
    params: args.number('params', 1_000_000),
    clients: args.number('clients', 5),
    runs: args.number('runs', 5),
    warmup: args.number('warmup', 1, 0),
    chunkBytes: args.number('chunk-bytes', DEFAULT_CHUNK_BYTES),
  });
}
