/**
 * One client node of bench/roundTrip.ts, run as its own process so the coordinator's memory is measured
 * alone. Reports timing marks and its peak RSS to the parent over the fork IPC channel, then exits.
 *
 *   (forked by roundTrip.ts) roundTripClient.ts '<ClientConfig as JSON>'
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { startClient } from '../src/client/clientNode.js';
import { publicKeyFromBase64 } from '../src/crypto/identity.js';
import { ConstantStepTrainer, epochMs } from './lib/constantStepTrainer.js';
import { benchSpec } from './lib/modelSpec.js';
import { maxRssBytes } from './lib/rss.js';

export interface ClientConfig {
  readonly url: string;
  readonly name: string;
  readonly params: number;
  readonly step: number;
  readonly examples: number;
  readonly chunkBytes: number;
  readonly window: number;
  readonly ackTimeoutMs: number;
  /** The coordinator's Ed25519 public key, base64, pinned by the client. */
  readonly coordinatorKey: string;
  /** Writes this client's CPU profile here as `<name>.cpuprofile`, from joining the run to exit (start-up left out). */
  readonly profileDir?: string;
}

export type ClientReport =
  | { readonly type: 'welcome'; readonly name: string }
  | { readonly type: 'fit'; readonly name: string; readonly received: number; readonly trained: number; readonly uploaded: number }
  | { readonly type: 'problem'; readonly name: string; readonly detail: string }
  | { readonly type: 'exit'; readonly name: string; readonly maxRss: number; readonly reason: string; readonly cpuSeconds: number };

const config = JSON.parse(process.argv[2] ?? 'null') as ClientConfig | null;
if (!config) throw new Error("usage: roundTripClient.ts '<ClientConfig as JSON>' (forked by bench/roundTrip.ts)");
const { name } = config;
const report = (r: ClientReport) => process.send?.(r);
const trainer = new ConstantStepTrainer(benchSpec(config.params), config.step, config.examples);
const profiler = config.profileDir ? new Session() : undefined;
profiler?.connect();
/** CPU (user + system) from joining the run: what the round costs this process, start-up left out. */
let cpuAtWelcome: NodeJS.CpuUsage | undefined;
const handle = startClient({
  url: config.url,
  name,
  trainer,
  coordinatorKey: publicKeyFromBase64(config.coordinatorKey),
  transfer: { chunkBytes: config.chunkBytes, window: config.window, ackTimeoutMs: config.ackTimeoutMs },
  onEvent: (event) => {
    if (event.type === 'welcome') {
      cpuAtWelcome = process.cpuUsage();
      // Profile from here: the start-up (tsx compiling the sources) is not the round's.
      if (profiler) void profiler.post('Profiler.enable').then(() => profiler.post('Profiler.start'));
      report({ type: 'welcome', name });
    }
    if (event.type === 'fit') report({ type: 'fit', name, received: trainer.marks.setWeights ?? NaN, trained: trainer.marks.fitEnd ?? NaN, uploaded: epochMs() });
    if (event.type === 'task-failed' || event.type === 'refused' || (event.type === 'disconnected' && event.reason !== 'io client disconnect')) {
      report({ type: 'problem', name, detail: `${event.type}: ${event.reason}` });
    }
  },
});
const reason = await handle.done.catch((e: unknown) => `failed: ${(e as Error).message}`);
if (profiler && config.profileDir) writeFileSync(join(config.profileDir, `${name}.cpuprofile`), JSON.stringify((await profiler.post('Profiler.stop')).profile));
// Exit explicitly once the parent has the report: socket.io-client and pino may keep timers alive.
const cpu = process.cpuUsage(cpuAtWelcome);
process.send?.({ type: 'exit', name, maxRss: maxRssBytes(), reason, cpuSeconds: (cpu.user + cpu.system) / 1e6 } satisfies ClientReport, () => process.exit(0));
