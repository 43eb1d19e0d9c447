/** Caps connection attempts per address in a sliding minute, and handshakes in progress overall. */
export class ConnectionLimiter {
  private readonly attempts = new Map<string, number[]>();
  private pending = 0;

  constructor(
    private readonly perMinute: number,
    private readonly maxPending: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns why a new connection from `address` is refused, or undefined to admit it. */
  admit(address: string): string | undefined {
    const t = this.now();
    const recent = (this.attempts.get(address) ?? []).filter((at) => t - at < 60_000);
    recent.push(t);
    this.attempts.set(address, recent);
    if (this.attempts.size > 10_000) this.prune(t);
    if (recent.length > this.perMinute) return `too many connection attempts from ${address} (limit ${this.perMinute} a minute)`;
    if (this.pending >= this.maxPending) return `too many handshakes in progress (limit ${this.maxPending})`;
    this.pending++;
    return undefined;
  }

  /** The admitted connection finished its handshake, or left. */
  settle(): void {
    this.pending = Math.max(0, this.pending - 1);
  }

  private prune(t: number): void {
    for (const [address, times] of this.attempts) if (times.every((at) => t - at >= 60_000)) this.attempts.delete(address);
  }
}
