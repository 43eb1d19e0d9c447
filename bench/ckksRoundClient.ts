/**
 * One client node of bench/ckksRound.ts, in its own process. Trains with ConstantStepTrainer (adds a
 * constant: training costs ~nothing, so the round measures the protocol), reports timing marks to the
 * parent, and once the run ends writes the final global model it holds (decrypted, in CKKS mode) as raw
 * float32 for the parent to check.
 *
 *   (forked by ckksRound.ts) ckksRoundClient.ts '<ClientConfig as JSON>'
 */
import { startClient } from '../src/client/clientNode.js';
import { CkksClientSide } from '../src/crypto/ckks/clientSide.js';
import { publicKeyFromBase64 } from '../src/crypto/identity.js';
import type { Weights } from '../src/protocol/tensors.js';
import { ConstantStepTrainer, epochMs } from './lib/constantStepTrainer.js';
import { benchSpec } from './lib/modelSpec.js';
import { maxRssBytes } from './lib/rss.js';
import { writeFlat } from './lib/shiftModel.js';

export interface ClientConfig {
  readonly url: string;
  readonly name: string;
  readonly params: number;
  readonly step: number;
  readonly examples: number;
  readonly chunkBytes: number;
  /** The coordinator's Ed25519 public key, base64, pinned by the client. */
  readonly coordinatorKey: string;
  /** Where to write the final global model (raw float32). */
  readonly modelOut: string;
  /** CPU-bound "training" time added to each fit (a spin loop), to see the ratios with a real training cost. */
  readonly trainMs: number;
}

/** What a client did and when (epoch ms, comparable across processes). */
export type Mark = 'set-weights' | 'fit-end' | 'evaluated' | 'decrypt-start' | 'decrypt-end' | 'encrypt-start' | 'encrypt-end' | 'fit-sent';

export type ClientReport =
  | { readonly type: 'welcome'; readonly name: string }
  | { readonly type: 'mark'; readonly name: string; readonly mark: Mark; readonly at: number; readonly bytes?: number }
  | { readonly type: 'problem'; readonly name: string; readonly detail: string }
  | { readonly type: 'exit'; readonly name: string; readonly maxRss: number; readonly reason: string; readonly wroteModel: boolean };

const config = JSON.parse(process.argv[2] ?? 'null') as ClientConfig | null;
if (!config) throw new Error("usage: ckksRoundClient.ts '<ClientConfig as JSON>' (forked by bench/ckksRound.ts)");
const { name, trainMs } = config;
const report = (r: ClientReport) => process.send?.(r);
const mark = (m: Mark, bytes?: number) => report({ type: 'mark', name, mark: m, at: epochMs(), ...(bytes !== undefined ? { bytes } : {}) });

// Instrumentation only (src/ is not changed): time this client's CKKS encryption and decryption. Both stream
// one ciphertext at a time (encryption as the upload pulls it, decryption as the download's frames complete), so
// the marks are the first and the last ciphertext's: the phases overlap the transfers they feed.
const sideProto = CkksClientSide.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
const encryptSlice = sideProto.encryptSlice;
const decryptSumPart = sideProto.decryptSumPart;
if (typeof encryptSlice !== 'function' || typeof decryptSumPart !== 'function') {
  throw new Error('bench/ckksRoundClient.ts times CkksClientSide.encryptSlice and .decryptSumPart, which no longer exist: update its instrumentation');
}
const SLOTS = 2048;
let encryptedBytes = 0;
sideProto.encryptSlice = function (this: unknown, ...args: unknown[]) {
  const [values, , index] = args as [Float32Array, number, number];
  if (index === 0) {
    mark('encrypt-start');
    encryptedBytes = 0;
  }
  const slice = encryptSlice.apply(this, args) as { bytes: Uint8Array };
  encryptedBytes += slice.bytes.length;
  if (index === Math.ceil(values.length / SLOTS) - 1) mark('encrypt-end', encryptedBytes);
  return slice;
};
sideProto.decryptSumPart = function (this: unknown, ...args: unknown[]) {
  const [index, , , out] = args as [number, Uint8Array, number, Float32Array];
  if (index === 0) mark('decrypt-start');
  try {
    return decryptSumPart.apply(this, args);
  } finally {
    if (index === Math.ceil(out.length / SLOTS) - 1) mark('decrypt-end');
  }
};

class MarkingTrainer extends ConstantStepTrainer {
  override setWeights(weights: Weights): void {
    super.setWeights(weights);
    mark('set-weights');
  }

  override async fit() {
    const until = performance.now() + trainMs;
    while (performance.now() < until); // stands for training: busy, like a real training loop
    const outcome = await super.fit();
    mark('fit-end');
    return outcome;
  }

  override async evaluate() {
    const outcome = await super.evaluate();
    mark('evaluated');
    return outcome;
  }
}

const trainer = new MarkingTrainer(benchSpec(config.params), config.step, config.examples);
const handle = startClient({
  url: config.url,
  name,
  trainer,
  coordinatorKey: publicKeyFromBase64(config.coordinatorKey),
  transfer: { chunkBytes: config.chunkBytes },
  onEvent: (event) => {
    if (event.type === 'welcome') report({ type: 'welcome', name });
    if (event.type === 'fit') mark('fit-sent');
    if (event.type === 'task-failed' || event.type === 'refused' || (event.type === 'disconnected' && event.reason !== 'io client disconnect')) {
      report({ type: 'problem', name, detail: `${event.type}: ${event.reason}` });
    }
  },
});
const reason = await handle.done.catch((e: unknown) => `failed: ${(e as Error).message}`);
const maxRss = maxRssBytes();
const final = handle.globalWeights();
if (final) writeFlat(config.modelOut, final);
// Exit explicitly once the parent has the report: socket.io-client and pino may keep timers alive.
process.send?.({ type: 'exit', name, maxRss, reason, wroteModel: final !== undefined } satisfies ClientReport, () => process.exit(0));
