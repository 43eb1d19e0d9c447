/** Caps connection attempts per address in a sliding minute (handshake slots are the ConnectionGuard's). */
export class ConnectionLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Returns why a new connection from `address` is refused, with when trying again can succeed, or
   * undefined to admit it. The limit is transient: a refused client may come back.
   */
  admit(address: string): { reason: string; retryAfterMs: number } | undefined {
    const t = this.now();
    const recent = (this.attempts.get(address) ?? []).filter((at) => t - at < 60_000);
    // Bounded: past the limit only the count matters, not every time.
    if (recent.length <= this.perMinute) recent.push(t);
    this.attempts.set(address, recent);
    if (this.attempts.size > 10_000) this.prune(t);
    if (recent.length > this.perMinute) {
      return { reason: `too many connection attempts from ${address} (limit ${this.perMinute} a minute)`, retryAfterMs: Math.max(1_000, 60_000 - (t - recent[0]!)) };
    }
    return undefined;
  }

  private prune(t: number): void {
    for (const [address, times] of this.attempts) if (times.every((at) => t - at >= 60_000)) this.attempts.delete(address);
  }
}
