/**
 * One client node of bench/roundTrip.ts, run as its own process so the coordinator's memory is measured
 * alone. Reports timing marks and its peak RSS to the parent over the fork IPC channel, then exits.
 *
 *   (forked by roundTrip.ts) roundTripClient.ts <url> <name> <params> <step> <examples> <chunkBytes> <window> <ackTimeoutMs>
 */
import { startClient } from '../src/client/clientNode.js';
import { ConstantStepTrainer, epochMs } from './lib/constantStepTrainer.js';
import { benchSpec } from './lib/modelSpec.js';
import { maxRssBytes } from './lib/rss.js';

export type ClientReport =
  | { readonly type: 'welcome'; readonly name: string }
  | { readonly type: 'fit'; readonly name: string; readonly received: number; readonly trained: number; readonly uploaded: number }
  | { readonly type: 'problem'; readonly name: string; readonly detail: string }
  | { readonly type: 'exit'; readonly name: string; readonly maxRss: number; readonly reason: string };

const [url, name, params, step, examples, chunkBytes, window, ackTimeoutMs] = process.argv.slice(2);
if (!url || !name || !params || !step || !examples || !chunkBytes || !window || !ackTimeoutMs) throw new Error('usage: roundTripClient.ts <url> <name> <params> <step> <examples> <chunkBytes> <window> <ackTimeoutMs>');
const report = (r: ClientReport) => process.send?.(r);
const trainer = new ConstantStepTrainer(benchSpec(Number(params)), Number(step), Number(examples));
const handle = startClient({
  url,
  name,
  trainer,
  transfer: { chunkBytes: Number(chunkBytes), window: Number(window), ackTimeoutMs: Number(ackTimeoutMs) },
  onEvent: (event) => {
    if (event.type === 'welcome') report({ type: 'welcome', name });
    if (event.type === 'fit') report({ type: 'fit', name, received: trainer.marks.setWeights ?? NaN, trained: trainer.marks.fitEnd ?? NaN, uploaded: epochMs() });
    if (event.type === 'task-failed' || event.type === 'refused' || (event.type === 'disconnected' && event.reason !== 'io client disconnect')) report({ type: 'problem', name, detail: `${event.type}: ${'reason' in event ? event.reason : ''}` });
  },
});
const reason = await handle.done.catch((e: unknown) => `failed: ${(e as Error).message}`);
// Exit explicitly once the parent has the report: socket.io-client and pino may keep timers alive.
process.send?.({ type: 'exit', name, maxRss: maxRssBytes(), reason } satisfies ClientReport, () => process.exit(0));
