/**
 * Where a CKKS round's CPU time goes, phase by phase, for one client's update of --params values (1M by
 * default) and a sum of --clients updates: each phase run alone, in this one process, --runs times. The table
 * gives each phase's CPU time (this process's, worker threads included: on a machine shared with other work it
 * is what the phase costs, where wall time is what it got), fastest of the runs, and the wall time (fastest,
 * median). Old and new paths are timed in the same run:
 *   - client upload: with no mask ready (one made per ciphertext at upload) against masks made ahead (while the
 *     client trains) and composed with the coefficient-encoded update at upload time (coefficientEncoding.ts);
 *   - coordinator: loading each seeded upload whole (SEAL expands its seed into c1) and adding, against
 *     adding c0 alone (CkksEvaluatorSide now; the sum goes out as c0 and the seeds);
 *   - client download: rebuilding the seeded sum (a seed expansion per contributor), decrypting, and all of it
 *     with the decoding (out of NTT form, centred, divided by the scale) and the rounding to the grid;
 *   - the same upload and download on 1 .. --threads worker threads (CkksThreads), wall time.
 *
 *   npx tsx bench/ckksPhases.ts [--params 1_000_000] [--clients 2] [--runs 5] [--threads <cores>]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { CkksClientSide } from '../src/crypto/ckks/clientSide.js';
import { CkksContext } from '../src/crypto/ckks/ckksContext.js';
import { CkksEvaluatorSide } from '../src/crypto/ckks/evaluatorSide.js';
import { ciphertextFrameChunks } from '../src/crypto/ckks/frames.js';
import { seededParts } from '../src/crypto/ckks/seededSum.js';
import { CkksThreads } from '../src/crypto/ckks/threads/ckksThreads.js';
import { isMain } from './lib/isMain.js';
import { median } from './lib/stats.js';
import { formatTable } from './lib/table.js';

export interface CkksPhasesOptions {
  readonly params: number;
  readonly clients: number;
  readonly runs: number;
  readonly threads: number;
}

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

interface Timing {
  readonly wall: number[];
  readonly cpu: number[];
}

async function time(runs: number, setup: () => unknown, fn: () => unknown): Promise<Timing> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    await setup();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall, cpu };
}

export async function benchCkksPhases(o: CkksPhasesOptions): Promise<void> {
  const ctx = await CkksContext.create();
  const seal = ctx.seal;
  const client = CkksClientSide.generate(ctx);
  const key = client.exportSecretKey();
  const n = o.params;
  const count = ctx.ciphertextCount(n);
  const updates = Array.from({ length: o.clients }, (_, k) => randomUpdate(n, k + 1));
  const rows: [string, Timing][] = [];
  const add = (label: string, t: Timing) => {
    rows.push([label, t]);
    console.log(`  ${label}: CPU ${(Math.min(...t.cpu) * 1000).toFixed(0)} ms, wall ${(Math.min(...t.wall) * 1000).toFixed(0)} ms (fastest of ${t.wall.length})`);
  };
  console.log(`\n## CKKS phases, ${n.toLocaleString('en')} values (${count} ciphertexts), ${o.clients} contributors, ${o.runs} runs each, node ${process.version}, ${availableParallelism()} cores`);

  // Client upload.
  add('upload, no mask ready: make one + encode + add + serialize', await time(o.runs, () => undefined, () => client.encryptScaled(updates[0]!, 1)));
  add('  of which: check + count clipped values (one pass)', await time(o.runs, () => undefined, () => client.checkUpdate(updates[0]!, 1)));
  // Each setup uses up the masks left, so every run makes all of them.
  add('masks: seeded encryptions of zero (made ahead, while the client trains)', await time(o.runs, () => client.encryptScaled(updates[0]!, 1), () => client.precomputeMasks(count)));
  add('upload, masks ready, one ciphertext at a time: encode (coefficients, NTT) + add to the mask + serialize', await time(o.runs, () => client.precomputeMasks(count), () => {
    for (let index = 0; index < count; index++) client.encryptSlice(updates[0]!, 1, index);
  }));
  add('upload, masks ready, in pairs (one encode, transform, add, serialize for two)', await time(o.runs, () => client.precomputeMasks(count), () => client.encryptScaled(updates[0]!, 1)));
  const uploads = updates.map((u) => client.encryptScaled(u, 1).ciphertexts);

  // Coordinator: the old per-upload load (seed expanded) + add, against the evaluator's c0-only add.
  const a = new seal.Ciphertext();
  const b = new seal.Ciphertext();
  const evaluator = new seal.Evaluator(ctx.context);
  add(`coordinator, old: load ${o.clients} seeded uploads whole (seed -> c1) + add`, await time(o.runs, () => undefined, () => {
    for (let i = 0; i < count; i++) {
      a.loadFromArray(ctx.context, uploads[0]![i]!);
      for (let k = 1; k < o.clients; k++) {
        b.loadFromArray(ctx.context, uploads[k]![i]!);
        evaluator.addInplace(a, b);
      }
    }
  }));
  let sum: Uint8Array[] = [];
  add(`coordinator, now: ${o.clients} uploads streamed into CkksEvaluatorSide (c0 alone) + serialize the seeded sum`, await time(o.runs, () => undefined, () => {
    const side = new CkksEvaluatorSide(ctx, n);
    for (const upload of uploads) {
      const sink = side.accept();
      for (const chunk of ciphertextFrameChunks(upload, 1 << 20)) sink.write(chunk);
      sink.commit();
    }
    sum = side.serializeSum();
    side.dispose();
  }));

  // Client download, split.
  const decryptor = new seal.Decryptor(ctx.context, (() => {
    const k = new seal.SecretKey();
    k.loadFromArray(ctx.context, key);
    return k;
  })());
  const plain = new seal.Plaintext();
  add(`download: rebuild the seeded sum (${o.clients} seed expansions + adds)`, await time(o.runs, () => undefined, () => {
    for (const bytes of sum) {
      let first = true;
      for (const part of seededParts(bytes)) {
        if (first) a.loadFromArray(ctx.context, part);
        else {
          b.loadFromArray(ctx.context, part);
          evaluator.addInplace(a, b);
        }
        first = false;
      }
    }
  }));
  add('download: decrypt (c0 + c1 s)', await time(o.runs, () => undefined, () => {
    for (let i = 0; i < count; i++) decryptor.decrypt(a, plain);
  }));
  const out = new Float32Array(n);
  add('download, all, one ciphertext at a time (decryptSumPart: rebuild, decrypt, decode, round)', await time(o.runs, () => undefined, () => {
    for (let index = 0; index < count; index++) client.decryptSumPart(index, sum[index]!, o.clients, out);
  }));
  add('download, all, in pairs (CkksClientSide.decryptSum: one transform out of NTT for two)', await time(o.runs, () => undefined, () => client.decryptSum(sum, n, o.clients)));

  // Worker threads, wall time.
  for (let threads = 1; threads <= o.threads; threads++) {
    const pool = new CkksThreads(ctx, key, threads);
    await pool.precompute(0); // the threads are up (SEAL loaded, key imported) before timing
    const drain = async () => {
      for await (const c of pool.encryptAll(updates[0]!, 1, count, client.ciphertextBytes)) void c;
    };
    add(`upload on ${threads} thread(s), no mask ready`, await time(o.runs, () => undefined, drain));
    add(`upload on ${threads} thread(s), masks ready`, await time(o.runs, () => pool.precompute(count), drain));
    add(`download on ${threads} thread(s): rebuild + decrypt + decode + round`, await time(o.runs, () => undefined, () => Promise.all(sum.map((bytes, i) => i % 2 ? Promise.resolve() : pool.decryptPair(i, bytes.slice(), sum[i + 1]?.slice(), o.clients, out)))));
    await pool.dispose();
  }
  for (const x of [a, b, evaluator, decryptor, plain]) x.delete();
  client.dispose();
  ctx.dispose();

  console.log(`\n### CKKS phases, ${n.toLocaleString('en')} values, ${o.clients} contributors`);
  const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;
  console.log(
    formatTable(
      ['phase', 'CPU (fastest)', 'CPU ns a value', 'wall (fastest)', 'wall (median)'],
      rows.map(([label, t]) => [label, ms(Math.min(...t.cpu)), ((Math.min(...t.cpu) * 1e9) / n).toFixed(0), ms(Math.min(...t.wall)), ms(median(t.wall))]),
    ),
  );
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { params: { type: 'string' }, clients: { type: 'string' }, runs: { type: 'string' }, threads: { type: 'string' } }, strict: true });
  const int = (name: string, text: string | undefined, fallback: number) => {
    const v = text === undefined ? fallback : Number(text.replaceAll('_', ''));
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
    return v;
  };
  await benchCkksPhases({
    params: int('params', values.params, 1_000_000),
    clients: int('clients', values.clients, 2),
    runs: int('runs', values.runs, 5),
    threads: int('threads', values.threads, availableParallelism()),
  });
}
