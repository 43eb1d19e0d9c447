import { BroadcastChannel } from 'node:worker_threads';
import type { ClientEvent } from '../../client/clientOptions.js';

/** What a process's virtual clients did since the last report (counts; `round` is the latest seen). */
export interface ProgressCounts {
  joined: number;
  trained: number;
  evaluated: number;
  failed: number;
  refused: number;
  /** Connection attempts to come back later (a busy coordinator, a lost connection), and the last one's reason. */
  retries: number;
  lastRetry: string;
  round: number;
}

/** Worker threads report on this channel; the host's main thread adds the reports up. */
export const PROGRESS_CHANNEL = 'cohort-virtual-client-progress';

const zero = (): ProgressCounts => ({ joined: 0, trained: 0, evaluated: 0, failed: 0, refused: 0, retries: 0, lastRetry: '', round: 0 });

/** Counts client events, for a periodic progress line. */
export class ProgressCounter {
  private counts = zero();

  readonly onEvent = (event: ClientEvent): void => {
    const c = this.counts;
    if (event.type === 'welcome') c.joined++;
    else if (event.type === 'fit') (c.trained++, (c.round = Math.max(c.round, event.round)));
    else if (event.type === 'evaluate') (c.evaluated++, (c.round = Math.max(c.round, event.round)));
    else if (event.type === 'task-failed') c.failed++;
    else if (event.type === 'refused') c.refused++;
    else if (event.type === 'retrying') (c.retries++, (c.lastRetry = `${event.cause}: ${event.reason}`));
  };

  /** The counts since the last call, and a fresh start. */
  take(): ProgressCounts {
    const taken = this.counts;
    this.counts = zero();
    return taken;
  }
}

/** In a worker thread: posts the counts every `everyMs` until stopped (and once more then). */
export function reportProgress(counter: ProgressCounter, everyMs = 1_000): () => void {
  const channel = new BroadcastChannel(PROGRESS_CHANNEL);
  const post = () => channel.postMessage(counter.take());
  const timer = setInterval(post, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    post();
    channel.close();
  };
}

/** In the host's main thread: totals over every thread, from the channel and from clients in this thread. */
export class ProgressTotals {
  readonly totals = zero();
  private readonly channel = new BroadcastChannel(PROGRESS_CHANNEL);

  constructor() {
    this.channel.onmessage = (message: unknown) => this.add((message as { data: ProgressCounts }).data);
    (this.channel as unknown as { unref(): void }).unref();
  }

  add(counts: ProgressCounts): void {
    const t = this.totals;
    t.joined += counts.joined;
    t.trained += counts.trained;
    t.evaluated += counts.evaluated;
    t.failed += counts.failed;
    t.refused += counts.refused;
    t.retries += counts.retries;
    if (counts.lastRetry) t.lastRetry = counts.lastRetry;
    t.round = Math.max(t.round, counts.round);
  }

  close(): void {
    this.channel.close();
  }
}
