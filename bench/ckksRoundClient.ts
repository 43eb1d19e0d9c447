/**
 * One client node of bench/ckksRound.ts, in its own process. Trains with ConstantStepTrainer (adds a
 * constant: training costs ~nothing, so the round measures the protocol) or, with `trainer: 'tfjs'`, a real
 * MLP of about `params` parameters with TfjsTrainer on the wasm backend (bench/lib/mlpModel.ts); reports
 * timing marks to the parent, and once the run ends writes the final global model it holds (decrypted, in
 * CKKS mode) as raw float32 for the parent to check.
 *
 *   (forked by ckksRound.ts) ckksRoundClient.ts '<ClientConfig as JSON>'
 */
import { selectBackend } from '../src/client/backend/index.js';
import { startClient } from '../src/client/clientNode.js';
import { TfjsTrainer } from '../src/client/tfjsTrainer.js';
import type { EvaluateConfig, FitConfig, Trainer } from '../src/client/trainer.js';
import { CkksClientSide } from '../src/crypto/ckks/clientSide.js';
import { CkksThreads } from '../src/crypto/ckks/threads/ckksThreads.js';
import { publicKeyFromBase64 } from '../src/crypto/identity.js';
import type { Weights } from '../src/protocol/tensors.js';
import { ConstantStepTrainer, epochMs } from './lib/constantStepTrainer.js';
import { benchSpec } from './lib/modelSpec.js';
import { buildMlp, syntheticData } from './lib/mlpModel.js';
import { cpuSeconds, maxRssBytes } from './lib/rss.js';
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
  /** 'constant': add a step (exact FedAvg check); 'tfjs': train the MLP of bench/lib/mlpModel.ts (wasm). */
  readonly trainer: 'constant' | 'tfjs';
  /** The node's ckksThreads (undefined: its default). */
  readonly ckksThreads?: number;
  /** This client's index (its synthetic data's seed under tfjs). */
  readonly index: number;
}

/** What a client did and when (epoch ms, comparable across processes). */
export type Mark = 'set-weights' | 'fit-end' | 'evaluated' | 'decrypt-start' | 'decrypt-end' | 'encrypt-start' | 'encrypt-end' | 'fit-sent';

export type ClientReport =
  | { readonly type: 'welcome'; readonly name: string }
  | { readonly type: 'mark'; readonly name: string; readonly mark: Mark; readonly at: number; readonly cpu: number; readonly bytes?: number; readonly masked?: number }
  | { readonly type: 'problem'; readonly name: string; readonly detail: string }
  | { readonly type: 'exit'; readonly name: string; readonly maxRss: number; readonly reason: string; readonly wroteModel: boolean };

const config = JSON.parse(process.argv[2] ?? 'null') as ClientConfig | null;
if (!config) throw new Error("usage: ckksRoundClient.ts '<ClientConfig as JSON>' (forked by bench/ckksRound.ts)");
const { name, trainMs } = config;
const report = (r: ClientReport) => process.send?.(r);
const mark = (m: Mark, bytes?: number, masked?: number) => report({ type: 'mark', name, mark: m, at: epochMs(), cpu: cpuSeconds(), ...(bytes !== undefined ? { bytes } : {}), ...(masked !== undefined ? { masked } : {}) });

// Instrumentation only (src/ is not changed): time this client's CKKS encryption and decryption, on this thread
// (CkksClientSide) or on worker threads (CkksThreads). Both stream one ciphertext at a time (encryption as the
// upload pulls it, decryption as the download's frames complete), so the marks are the first ciphertext's start
// and the last one's end: the phases overlap the transfers they feed.
const SLOTS = 4096;
let encryptedBytes = 0;
/** Ciphertexts of the current upload that were encrypted on a mask made ahead (worker threads only). */
let masked = 0;
type Proto = Record<string, (...args: unknown[]) => unknown>;
interface Encrypted {
  readonly ciphertexts: readonly Uint8Array[];
  readonly masked: number;
}
/** Wraps the pair methods (encrypt: values, weight, first index; decrypt: first index, two ciphertexts, weight, out). */
function instrument(proto: Proto, encryptName: string, decryptName: string, encrypted: (result: unknown) => Encrypted): void {
  const encrypt = proto[encryptName];
  const decrypt = proto[decryptName];
  if (typeof encrypt !== 'function' || typeof decrypt !== 'function') {
    throw new Error(`bench/ckksRoundClient.ts times .${encryptName} and .${decryptName}, which no longer exist: update its instrumentation`);
  }
  proto[encryptName] = function (this: unknown, ...args: unknown[]) {
    const values = args[0] as Float32Array;
    const index = args[2] as number;
    if (index === 0) {
      mark('encrypt-start');
      encryptedBytes = 0;
      masked = 0;
    }
    const last = index + 2 >= Math.ceil(values.length / SLOTS);
    const done = (result: unknown) => {
      const e = encrypted(result);
      for (const c of e.ciphertexts) encryptedBytes += c.length;
      masked += e.masked;
      if (last) mark('encrypt-end', encryptedBytes, masked);
      return result;
    };
    const out = encrypt.apply(this, args);
    return out instanceof Promise ? out.then(done) : done(out);
  };
  proto[decryptName] = function (this: unknown, ...args: unknown[]) {
    const index = args[0] as number;
    const second = args[2] as Uint8Array | undefined;
    const out = args[4] as Float32Array;
    if (index === 0) mark('decrypt-start');
    const last = (second === undefined ? index : index + 1) === Math.ceil(out.length / SLOTS) - 1;
    const result = decrypt.apply(this, args);
    if (result instanceof Promise) return result.finally(() => last && mark('decrypt-end'));
    if (last) mark('decrypt-end');
    return result;
  };
}
// On this thread: pairs of { bytes } (no mask made ahead); on worker threads: the pool's reply.
instrument(CkksClientSide.prototype as unknown as Proto, 'encryptPair', 'decryptSumPair', (r) => ({ ciphertexts: (r as { bytes: Uint8Array }[]).map((x) => x.bytes), masked: 0 }));
instrument(CkksThreads.prototype as unknown as Proto, 'encryptPair', 'decryptPair', (r) => r as Encrypted);

/** Marks when the global arrives and when fit and evaluate end, around the trainer that does the work. */
class MarkingTrainer implements Trainer {
  constructor(private readonly inner: Trainer) {}

  describe() {
    return this.inner.describe();
  }

  getWeights() {
    return this.inner.getWeights();
  }

  async setWeights(weights: Parameters<Trainer['setWeights']>[0]) {
    await this.inner.setWeights(weights);
    mark('set-weights');
  }

  async fit(config: FitConfig) {
    const until = performance.now() + trainMs;
    while (performance.now() < until); // stands for training: busy, like a real training loop
    const outcome = await this.inner.fit(config);
    mark('fit-end');
    return outcome;
  }

  async evaluate(config: EvaluateConfig) {
    const outcome = await this.inner.evaluate(config);
    mark('evaluated');
    return outcome;
  }
}

async function innerTrainer(): Promise<Trainer> {
  if (config!.trainer === 'constant') return new ConstantStepTrainer(benchSpec(config!.params), config!.step, config!.examples);
  await selectBackend({ preference: 'wasm', env: {}, log: () => undefined });
  const train = syntheticData(1000 + config!.index, config!.examples);
  const test = syntheticData(2000 + config!.index, Math.max(1, config!.examples >> 2));
  return new TfjsTrainer({ model: buildMlp(config!.params), train, test, loss: 'binaryCrossentropy', accuracy: true, seed: config!.index });
}

const trainer = new MarkingTrainer(await innerTrainer());
const handle = startClient({
  url: config.url,
  name,
  trainer,
  coordinatorKey: publicKeyFromBase64(config.coordinatorKey),
  transfer: { chunkBytes: config.chunkBytes },
  ...(config.ckksThreads !== undefined ? { ckksThreads: config.ckksThreads } : {}),
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
