/** Why a node is about to try its coordinator again. */
export type RetryCause =
  /** Refused for load (handshake slots, attempts per address): the coordinator said when to come back. */
  | 'busy'
  /** No connection could be opened: the coordinator is not up yet, or not reachable. */
  | 'unreachable'
  /** An open connection was lost (or closed before the handshake completed). */
  | 'disconnected';

/** The next connection attempt: why, what happened, and when. */
export interface Retry {
  /** Why the node retries. */
  readonly cause: RetryCause;
  /** What happened, in the words of the coordinator or of the transport. */
  readonly reason: string;
  /** When the next attempt starts, in milliseconds from now. */
  readonly delayMs: number;
}

export interface ReconnectOptions {
  /** First delay of the exponential backoff, doubled after each failed attempt. */
  readonly baseMs: number;
  /** The backoff's cap: a node keeps trying forever, never less often than this. */
  readonly maxMs: number;
  /** Opens the next connection attempt. */
  readonly connect: () => void;
  /** Told about each scheduled attempt before it is made (events, logs, the CLI's line). */
  readonly onRetry: (retry: Retry) => void;
  readonly random?: () => number;
}

/**
 * A node's reconnection schedule: every transient failure is retried, forever, after a capped exponential
 * backoff with jitter (delays in [0.5, 1.5) of base x 2^attempt, at most `maxMs`), or after the delay a busy
 * coordinator advised (plus up to 50 % jitter, so a refused crowd spreads out), whichever is longer. The
 * timer holds the process open: a node waiting to come back is still running.
 */
export class Reconnector {
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly options: ReconnectOptions) {
    if (!(options.baseMs > 0) || !(options.maxMs >= options.baseMs)) throw new Error(`reconnection delays must satisfy 0 < base (${options.baseMs} ms) <= max (${options.maxMs} ms)`);
    this.random = options.random ?? Math.random;
  }

  /** The node was welcomed: the next loss starts again from the base delay. */
  reset(): void {
    this.attempt = 0;
  }

  /** Schedules the next attempt (replacing one already scheduled); `advisedMs` is a busy coordinator's retryAfterMs. */
  schedule(cause: RetryCause, reason: string, advisedMs = 0): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const { baseMs, maxMs } = this.options;
    const backoff = Math.min(maxMs, baseMs * 2 ** this.attempt * (0.5 + this.random()));
    this.attempt = Math.min(this.attempt + 1, 40);
    const delayMs = Math.round(Math.max(backoff, advisedMs * (1 + 0.5 * this.random())));
    this.options.onRetry({ cause, reason, delayMs });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.options.connect();
    }, delayMs);
  }

  /** No more attempts: the run ended, the node was refused for good, or stopped. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Seconds as a person reads them: one decimal below 10 s ("1.5 s"), whole seconds above ("30 s"). */
function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 100) / 10} s`;
}

/** The line a node prints or logs for a retry, e.g. "refused: busy; retrying in 8 s (too many handshakes...)". */
export function describeRetry(retry: Retry, url: string): string {
  const when = seconds(retry.delayMs);
  switch (retry.cause) {
    case 'busy':
      return `refused: busy; retrying in ${when} (${retry.reason})`;
    case 'unreachable':
      // Out of descriptors is this machine's doing, not the coordinator's: waiting for it would never end.
      if (/\bE[MN]FILE\b/.test(retry.reason)) return `cannot open a connection to ${url}: out of open files (${retry.reason}); retrying in ${when}: raise this process's open-file limit (ulimit -n) or run fewer clients in it`;
      return `waiting for ${url}; retrying in ${when}`;
    case 'disconnected':
      return `disconnected (${retry.reason}); reconnecting in ${when}`;
  }
}
