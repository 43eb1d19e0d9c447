import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CkksContext } from '../ckksContext.js';
import { CkksError } from '../ckksError.js';
import type { WorkerReply, WorkerRequest } from './messages.js';

/** Worker threads a client uses for CKKS by default: one per core but the one training uses, 1 to 8. */
export function defaultCkksThreads(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(8, cores - 1));
}

/**
 * The worker's file beside this one, with this file's extension: `.js` from dist/, `.ts` under tsx or vitest,
 * where the thread also needs tsx's loader.
 */
function workerEntry(): { url: URL; execArgv: string[] } {
  const extension = extname(fileURLToPath(import.meta.url));
  const url = new URL(`./ckksWorker${extension}`, import.meta.url);
  const tsxLoaded = process.execArgv.some((arg) => arg === 'tsx' || /[\\/]node_modules[\\/]tsx[\\/]/.test(arg));
  if (extension !== '.ts' || tsxLoaded) return { url, execArgv: process.execArgv };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { url, execArgv: [...process.execArgv, '--import', tsx] };
}

type Ok = Extract<WorkerReply, { ok: true }>;

/** One worker thread and the requests it has not answered yet. */
class CkksWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: Ok) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(ctx: CkksContext, secretKey: Uint8Array) {
    const { url, execArgv } = workerEntry();
    this.worker = new Worker(url, { execArgv });
    this.worker.unref();
    this.worker.on('message', (r: WorkerReply) => {
      const waiter = this.pending.get(r.id);
      if (!waiter) return;
      this.pending.delete(r.id);
      if (r.ok) waiter.resolve(r);
      else waiter.reject(new CkksError(r.error));
    });
    const stop = (e: Error) => {
      this.failure ??= e;
      for (const w of this.pending.values()) w.reject(this.failure);
      this.pending.clear();
    };
    this.worker.on('error', (e) => stop(new CkksError(`a CKKS worker thread failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => stop(new CkksError(`a CKKS worker thread exited (code ${code})`)));
    // Messages posted before the thread is up wait in its queue: the key goes first, every request after it.
    void this.request({ op: 'init', id: 0, parameters: ctx.parameters, secretKey: secretKey.slice() }).catch(() => undefined);
  }

  /** Sends a request (its `id` is set here) and resolves with the worker's reply. */
  request(request: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<Ok> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Ok>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, request.op === 'init' ? [request.secretKey.buffer as ArrayBuffer] : transfer);
    });
  }

  async terminate(): Promise<void> {
    this.failure ??= new CkksError('the CKKS worker threads were stopped');
    await this.worker.terminate();
  }
}

/**
 * A client's CKKS work spread over worker threads, each holding the run's key in its own SEAL instance:
 * ciphertexts go in pairs (2j, 2j + 1) to thread j mod n, for encryption (with a mask that thread made ahead, if it has one)
 * and for decryption. Bound to one key: `dispose` ends the threads, and with them every mask made under it.
 */
export class CkksThreads {
  private readonly workers: CkksWorker[];
  private disposed = false;

  constructor(
    private readonly ctx: CkksContext,
    secretKey: Uint8Array,
    readonly threads: number,
  ) {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new CkksError(`CKKS threads must be a positive integer, got ${threads}`);
    this.workers = Array.from({ length: threads }, () => new CkksWorker(ctx, secretKey));
  }

  /**
   * Has the threads make masks (in the background, after whatever they are asked meanwhile) until the next
   * `ciphertexts` ciphertexts can be encrypted on masks; resolves with the masks ready then.
   */
  async precompute(ciphertexts: number): Promise<number> {
    this.check();
    // Each thread's share: two masks for each pair it encrypts, one for a last single ciphertext.
    const shares = this.workers.map(() => 0);
    for (let index = 0; index < ciphertexts; index += 2) shares[Math.floor(index / 2) % shares.length]! += Math.min(2, ciphertexts - index);
    const replies = await Promise.all(this.workers.map((worker, w) => worker.request({ op: 'masks', id: 0, count: shares[w]! })));
    return replies.reduce((n, r) => n + (r.masks ?? 0), 0);
  }

  /**
   * Encrypts ciphertexts `index` and `index + 1` of weight x values (the second if the values reach it) on the
   * pair's thread: a pair costs about one ciphertext (CkksClientSide.encryptPair).
   */
  async encryptPair(values: Float32Array, weight: number, index: number): Promise<{ ciphertexts: readonly Uint8Array[]; clipped: number; masked: number }> {
    this.check();
    const from = index * this.ctx.valuesPerCiphertext;
    const slice = values.slice(from, Math.min(values.length, from + 2 * this.ctx.valuesPerCiphertext));
    try {
      const r = await this.workerFor(index).request({ op: 'encrypt', id: 0, values: slice, weight }, [slice.buffer]);
      return { ciphertexts: r.ciphertexts!, clipped: r.clipped!, masked: r.masked ?? 0 };
    } catch (e) {
      throw new CkksError(`encrypting ciphertexts from ${index}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * The `count` ciphertexts of weight x values, made on the threads a pair at a time and yielded in order, at
   * most `window` pairs in flight (4 MiB for the defaults at 64): each must serialize to the `ciphertextBytes`
   * the stream announced.
   */
  async *encryptAll(values: Float32Array, weight: number, count: number, ciphertextBytes: number, window = 64): AsyncGenerator<Uint8Array> {
    const inFlight: Promise<readonly Uint8Array[]>[] = [];
    let next = 0;
    const start = () => {
      const index = next;
      next += 2;
      const made = this.encryptPair(values, weight, index).then(({ ciphertexts }) => {
        const expected = Math.min(2, count - index);
        if (ciphertexts.length !== expected) throw new CkksError(`ciphertexts from ${index}: ${ciphertexts.length} came back, expected ${expected}`);
        for (const [k, bytes] of ciphertexts.entries()) {
          if (bytes.length !== ciphertextBytes) throw new CkksError(`ciphertext ${index + k} serialized to ${bytes.length} bytes, not the ${ciphertextBytes} its stream announced`);
        }
        return ciphertexts;
      });
      made.catch(() => undefined); // awaited in order below; a failure is thrown there
      inFlight.push(made);
    };
    for (let index = 0; index < count; index += 2) {
      while (next < count && inFlight.length < window) start();
      yield* await inFlight.shift()!;
    }
  }

  /**
   * Decrypts ciphertexts `index` (and `index + 1`, given `second`) of a sum into out[index * valuesPerCiphertext
   * ...] on the pair's thread (the bytes are moved there).
   */
  async decryptPair(index: number, first: Uint8Array, second: Uint8Array | undefined, totalWeight: number, out: Float32Array): Promise<void> {
    this.check();
    const from = index * this.ctx.valuesPerCiphertext;
    const last = second === undefined ? index : index + 1;
    if (!Number.isInteger(index) || index < 0 || last * this.ctx.valuesPerCiphertext >= out.length) throw new CkksError(`ciphertext ${last} is outside a sum of ${out.length} values`);
    const length = Math.min((last - index + 1) * this.ctx.valuesPerCiphertext, out.length - from);
    const own = (bytes: Uint8Array) => (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice());
    const ciphertexts = second === undefined ? [own(first)] : [own(first), own(second)];
    try {
      const r = await this.workerFor(index).request({ op: 'decrypt', id: 0, ciphertexts, totalWeight, length }, ciphertexts.map((c) => c.buffer as ArrayBuffer));
      out.set(r.values!, from);
    } catch (e) {
      throw new CkksError(`decrypting ciphertexts from ${index} of the sum: ${(e as Error).message}`, { cause: e });
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** A pair's thread: pairs (2j, 2j + 1) go round the threads. */
  private workerFor(index: number): CkksWorker {
    return this.workers[Math.floor(index / 2) % this.workers.length]!;
  }

  private check(): void {
    if (this.disposed) throw new CkksError('the CKKS threads have been disposed');
  }
}
