// A CKKS worker thread: holds the run's secret key in its own SEAL instance and encrypts, decrypts and makes
// masks for its pool (ckksThreads.ts). One worker per thread; it lives as long as the key it holds.
import { parentPort } from 'node:worker_threads';
import { CkksClientSide } from '../clientSide.js';
import { CkksContext } from '../ckksContext.js';
import type { WorkerReply, WorkerRequest } from './messages.js';

const port = parentPort;
if (!port) throw new Error('ckksWorker.ts runs as a worker thread (see ckksThreads.ts)');

let side: Promise<CkksClientSide> | undefined;
let maskTarget = 0;
let making = false;
let maskWaiters: number[] = [];

const reply = (r: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);
const fail = (id: number, e: unknown) => reply({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
/** The bytes in a buffer of their own, so transferring it moves nothing else (never a view of SEAL's heap). */
const owned = (bytes: Uint8Array): Uint8Array => (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice());
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One mask per event-loop turn, so encrypt and decrypt requests that arrive meanwhile are served first. */
async function makeMasks(s: CkksClientSide): Promise<void> {
  if (making) return;
  making = true;
  try {
    while (s.masksReady < maskTarget) {
      s.precomputeMasks(s.masksReady + 1);
      await nextTick();
    }
  } finally {
    making = false;
    const made = s.masksReady;
    for (const id of maskWaiters) reply({ id, ok: true, masks: made });
    maskWaiters = [];
  }
}

async function handle(request: WorkerRequest): Promise<void> {
  if (request.op === 'init') {
    side = CkksContext.create(request.parameters).then((ctx) => CkksClientSide.importSecretKey(ctx, request.secretKey));
    await side;
    request.secretKey.fill(0);
    reply({ id: request.id, ok: true });
    return;
  }
  if (!side) throw new Error('the CKKS worker got a request before its key');
  const s = await side;
  switch (request.op) {
    case 'masks':
      maskTarget = request.count;
      maskWaiters.push(request.id);
      void makeMasks(s).catch((e: unknown) => maskWaiters.splice(0).forEach((id) => fail(id, e)));
      return;
    case 'encrypt': {
      // Ciphertexts of the update the masks are for are done: make no mask past the update (nor compete with it).
      const ready = s.masksReady;
      const slices = s.encryptPair(request.values, request.weight, 0);
      maskTarget = Math.max(0, maskTarget - slices.length);
      const masked = Math.min(ready, slices.length);
      const ciphertexts = slices.map((slice) => owned(slice.bytes));
      const clipped = slices.reduce((n, slice) => n + slice.clipped, 0);
      reply({ id: request.id, ok: true, ciphertexts, clipped, masked }, ciphertexts.map((c) => c.buffer as ArrayBuffer));
      return;
    }
    case 'decrypt': {
      const out = new Float32Array(request.length);
      s.decryptSumPair(0, request.ciphertexts[0]!, request.ciphertexts[1], request.totalWeight, out);
      reply({ id: request.id, ok: true, values: out }, [out.buffer]);
      return;
    }
  }
}

port.on('message', (request: WorkerRequest) => {
  handle(request).catch((e: unknown) => fail(request.id, e));
});
