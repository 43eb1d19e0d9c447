import type { ClientSession } from './clientSession.js';
import type { ClientSummary } from './strategy.js';

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

export class RegistryClosedError extends Error {
  override readonly name = 'RegistryClosedError';
}

/** The clients connected right now, and a way to wait until enough are. */
export class ClientRegistry {
  private readonly sessions = new Map<string, ClientSession>();
  /** The latest session under each name: every hello looks its name up, 10,000 of them in a large simulation. */
  private readonly named = new Map<string, ClientSession>();
  private waiters: { count: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private closedBecause: string | undefined;

  /** `expected`: the client names that may join (an allowlist's), so a wait that times out can say who is missing. */
  constructor(private readonly expected: () => readonly string[] = () => []) {}

  add(session: ClientSession): void {
    this.sessions.set(session.summary.id, session);
    this.named.set(session.summary.name, session);
    this.wake();
  }

  remove(id: string): void {
    const session = this.sessions.get(id);
    this.sessions.delete(id);
    if (session && this.named.get(session.summary.name) === session) {
      this.named.delete(session.summary.name);
      // An older session under the same name may still be registered (a reconnect before the old one left).
      for (const s of this.sessions.values()) if (s.summary.name === session.summary.name) this.named.set(s.summary.name, s);
    }
  }

  get(id: string): ClientSession | undefined {
    return this.sessions.get(id);
  }

  byName(name: string): ClientSession | undefined {
    return this.named.get(name);
  }

  get size(): number {
    return this.sessions.size;
  }

  summaries(): ClientSummary[] {
    return [...this.sessions.values()].filter((s) => s.open && s.role === 'client').map((s) => s.summary);
  }

  all(): ClientSession[] {
    return [...this.sessions.values()];
  }

  /** Resolves once no session is open, or after `timeoutMs`, whichever is first. */
  async waitForEmpty(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.all().some((s) => s.open) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Resolves once at least `count` clients are connected; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.closedBecause !== undefined) return Promise.reject(new RegistryClosedError(this.closedBecause));
    if (this.summaries().length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new WaitTimeoutError(`only ${this.summaries().length} of the ${count} required clients connected within ${Math.round(timeoutMs / 1000)} s${this.missing()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** `; not connected: a, b (and N more)` for an allowlist's clients with no open session, else nothing. */
  private missing(): string {
    const absent = this.expected().filter((name) => !this.named.get(name)?.open);
    if (absent.length === 0) return '';
    const shown = absent.slice(0, 10).join(', ');
    return `; not connected: ${shown}${absent.length > 10 ? ` (and ${absent.length - 10} more)` : ''}`;
  }

  /** The server is closing: pending and later waits fail at once instead of running out their timers. */
  close(reason: string): void {
    this.closedBecause = reason;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(new RegistryClosedError(reason));
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    let connected = 0;
    for (const s of this.sessions.values()) if (s.open && s.role === 'client') connected++;
    const ready = this.waiters.filter((w) => w.count <= connected);
    this.waiters = this.waiters.filter((w) => w.count > connected);
    for (const w of ready) w.resolve();
  }
}
