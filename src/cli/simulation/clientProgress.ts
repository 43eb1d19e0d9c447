import { BroadcastChannel, threadId } from 'node:worker_threads';
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
  /** Clients waiting to reconnect now (a retry scheduled, not welcomed since): a snapshot, not a count since the last report. */
  waiting: Waiting;
  /** The thread that counted (a snapshot replaces that thread's last one). */
  thread: number;
}

/** Clients waiting to reconnect, by their last retry's reason ("unreachable: connect EMFILE ..."). */
export interface Waiting {
  count: number;
  reasons: Record<string, number>;
}

/** Worker threads report on this channel; the host's main thread adds the reports up. */
export const PROGRESS_CHANNEL = 'cohort-virtual-client-progress';

const zero = (): ProgressCounts => ({ joined: 0, trained: 0, evaluated: 0, failed: 0, refused: 0, retries: 0, lastRetry: '', round: 0, waiting: { count: 0, reasons: {} }, thread: threadId });

/** Counts client events, for a periodic progress line. */
export class ProgressCounter {
  private counts = zero();
  /** Each client waiting to reconnect, and why: a client stuck outside stays here, named by its last reason. */
  private readonly away = new Map<string, string>();

  /** `client` names who it happened to; without it the waiting clients are not tracked. */
  readonly onEvent = (event: ClientEvent, client?: string): void => {
    if (client !== undefined) this.track(event, client);
    const c = this.counts;
    if (event.type === 'welcome') c.joined++;
    else if (event.type === 'fit') (c.trained++, (c.round = Math.max(c.round, event.round)));
    else if (event.type === 'evaluate') (c.evaluated++, (c.round = Math.max(c.round, event.round)));
    else if (event.type === 'task-failed') c.failed++;
    else if (event.type === 'refused') c.refused++;
    else if (event.type === 'retrying') (c.retries++, (c.lastRetry = `${event.cause}: ${event.reason}`));
  };

  /** The counts since the last call, and a fresh start; `waiting` is as it stands now. */
  take(): ProgressCounts {
    const taken = this.counts;
    this.counts = zero();
    return { ...taken, waiting: this.waiting() };
  }

  /** Clients waiting to reconnect now, by reason. */
  waiting(): Waiting {
    const reasons: Record<string, number> = {};
    for (const reason of this.away.values()) reasons[reason] = (reasons[reason] ?? 0) + 1;
    return { count: this.away.size, reasons };
  }

  private track(event: ClientEvent, client: string): void {
    if (event.type === 'retrying') this.away.set(client, `${event.cause}: ${event.reason}`);
    else if (event.type === 'welcome' || event.type === 'refused' || event.type === 'run-end') this.away.delete(client);
  }
}

/** "12 waiting to reconnect (12 unreachable: connect EMFILE ...)", the most common reason named; '' when none waits. */
export function describeWaiting(waiting: Waiting): string {
  if (waiting.count === 0) return '';
  const [reason, count] = Object.entries(waiting.reasons).reduce((top, entry) => (entry[1] > top[1] ? entry : top));
  return `${waiting.count} waiting to reconnect (${count === waiting.count ? '' : `most, ${count}: `}${reason})`;
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
  /** Each thread's last snapshot of its waiting clients. */
  private readonly waitingByThread = new Map<number, Waiting>();
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
    this.waitingByThread.set(counts.thread, counts.waiting);
    const reasons: Record<string, number> = {};
    let count = 0;
    for (const w of this.waitingByThread.values()) {
      count += w.count;
      for (const [reason, n] of Object.entries(w.reasons)) reasons[reason] = (reasons[reason] ?? 0) + n;
    }
    t.waiting = { count, reasons };
  }

  close(): void {
    this.channel.close();
  }
}
