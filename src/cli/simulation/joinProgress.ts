import { describeWaiting, type ProgressCounter, type ProgressTotals } from './clientProgress.js';

export interface JoinWatch {
  /** Clients the coordinator has connected now. */
  readonly connected: () => number;
  /** Clients of the simulation. */
  readonly clients: number;
  /** Reports from worker threads; `local` counts the clients in this thread. */
  readonly totals: ProgressTotals;
  readonly local: ProgressCounter;
  readonly print: (line: string) => void;
  readonly everyMs?: number;
}

/**
 * While the simulation's clients are still joining, says every `everyMs` how many the coordinator has and, when
 * some wait to reconnect, why ("clients: 9988 of 10000 connected, 12 waiting to reconnect (unreachable: connect
 * EMFILE ...)"), so that a join that stalls says so instead of waiting out the deadline in silence. Quiet once
 * every client is in; returns a function that stops it.
 */
export function reportJoins(watch: JoinWatch): () => void {
  const timer = setInterval(() => {
    const connected = watch.connected();
    watch.totals.add(watch.local.take());
    if (connected >= watch.clients) return clearInterval(timer);
    const waiting = describeWaiting(watch.totals.totals.waiting);
    watch.print(`clients: ${connected} of ${watch.clients} connected${waiting ? `, ${waiting}` : ''}`);
  }, watch.everyMs ?? 30_000);
  timer.unref();
  return () => clearInterval(timer);
}
