import type { Logger } from 'pino';
import type { AuditTrail } from './auditTrail.js';

/** Distinct reasons and addresses kept per interval; the rest are counted together. */
const MAX_DISTINCT = 1_000;
/** Listed in a summary entry, most frequent first. */
const SHOWN_REASONS = 32;
const SHOWN_ADDRESSES = 16;
/** Refusals logged one by one per interval before the log falls silent until the summary. */
const LOGGED_EACH = 10;

/**
 * Refusals before authentication (load limits, unknown keys, forged handshakes, timeouts), audited as one
 * signed summary per interval with counts instead of one entry each: a flood of refusals must not grow the
 * audit log and the log without bound (at 470 bytes an entry, 75 s of it took 26 MB).
 */
export class RefusalTally {
  private reasons = new Map<string, number>();
  private addresses = new Map<string, number>();
  private kinds = new Map<string, number>();
  private total = 0;
  private logged = 0;
  private since = new Date();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditTrail,
    private readonly log: Logger,
    intervalMs = 60_000,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  add(kind: string, address: string, reason: string, client?: string | null): void {
    this.total++;
    countInto(this.kinds, kind);
    countInto(this.reasons, reason);
    countInto(this.addresses, address);
    if (this.logged++ < LOGGED_EACH) this.log.warn({ address, client, reason }, 'connection refused');
  }

  /** Appends the summary of the refusals since the last one, if there were any. */
  flush(): void {
    if (this.total === 0) return;
    const to = new Date();
    const top = (counts: Map<string, number>, shown: number, key: string) =>
      [...counts].sort((a, b) => b[1] - a[1]).slice(0, shown).map(([value, count]) => ({ [key]: value, count }));
    const listed = (counts: Map<string, number>, shown: number) => [...counts.values()].sort((a, b) => b - a).slice(0, shown).reduce((s, n) => s + n, 0);
    this.audit.append('refusals', {
      from: this.since.toISOString(),
      to: to.toISOString(),
      total: this.total,
      kinds: Object.fromEntries(this.kinds),
      reasons: top(this.reasons, SHOWN_REASONS, 'reason'),
      otherReasons: this.total - listed(this.reasons, SHOWN_REASONS),
      addresses: top(this.addresses, SHOWN_ADDRESSES, 'address'),
      otherAddresses: this.total - listed(this.addresses, SHOWN_ADDRESSES),
    });
    if (this.logged > LOGGED_EACH) this.log.warn({ total: this.total, unlogged: this.logged - LOGGED_EACH }, 'more connections refused (counted in the audit log)');
    this.reasons = new Map();
    this.addresses = new Map();
    this.kinds = new Map();
    this.total = 0;
    this.logged = 0;
    this.since = to;
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

/** Counts `key`, into an entry of its own while there is room, else under '(other)'. */
function countInto(counts: Map<string, number>, key: string): void {
  const k = counts.has(key) || counts.size < MAX_DISTINCT ? key : '(other)';
  counts.set(k, (counts.get(k) ?? 0) + 1);
}
