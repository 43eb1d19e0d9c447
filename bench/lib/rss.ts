/** Bytes: the process's resident-set high-water mark since it started (getrusage, so it sees blocked loops too). */
export function maxRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * Samples `process.memoryUsage.rss()` on a timer. A timer only fires when the event loop is free, so long
 * synchronous work (encoding, summing) is missed: read it next to `maxRssBytes()`, which is not.
 */
export class RssSampler {
  // memoryUsage.rss() reads the RSS alone; memoryUsage() also walks the V8 heap (seconds over a long round).
  peak = process.memoryUsage.rss();
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    this.samples++;
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

/** Seconds of CPU this process has used so far, all its threads (worker threads included), user and system. */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
