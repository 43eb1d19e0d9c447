import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import type { Socket } from 'node:net';

export interface ConnectionGuardLimits {
  /** Open TCP connections from one address, authenticated or not. */
  readonly maxPerAddress: number;
  /** Open TCP connections from one IPv6 /64 (one site: a host there can use any of its 2^64 addresses). */
  readonly maxPerPrefix: number;
  /** Connections not yet authenticated, overall (the handshake slots). */
  readonly maxPending: number;
  /**
   * A connection that is neither authenticated nor an HTTP request within this time is destroyed, whatever it
   * got stuck on: the TCP or TLS handshake, a half-sent HTTP upgrade, engine.io without socket.io's connect.
   */
  readonly preAuthTimeoutMs: number;
}

/** Why the guard closed a connection, for the refusal tally. */
export type GuardRefusal = 'too many open connections' | 'no handshake in time' | 'evicted for a newcomer';

interface Pending {
  readonly socket: Socket;
  readonly address: string;
  readonly timer: NodeJS.Timeout;
  /** Holds one of the maxPending handshake slots; the others wait (and are refused as busy if they ask). */
  slot: boolean;
}

/** The address as one client sees it: an IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** An IPv6 address's /64 (its first four groups, expanded); an IPv4 address stands alone. */
export function prefixOf(address: string): string {
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/64`;
}

const keyOf = (remote: { remoteAddress?: string | undefined; remotePort?: number | undefined }) => `${normalizeAddress(remote.remoteAddress)}|${remote.remotePort ?? 0}`;

/**
 * Bounds what unauthenticated peers can hold, at the TCP level, before any HTTP, engine.io or socket.io work:
 * open connections per address and per /64, a deadline on every connection until it authenticates (or is a
 * plain HTTP request, left to the HTTP server's own timeouts), and handshake slots shared fairly: when they
 * are full, a newcomer takes the oldest slot of the address holding the most, so idle sockets from a few
 * addresses cannot lock others out. A newcomer from an address already holding as many waits without a slot
 * (isBusy: the server refuses it with a retry time), held only by the per-address cap and the deadline.
 */
export class ConnectionGuard {
  private readonly openByAddress = new Map<string, number>();
  private readonly openByPrefix = new Map<string, number>();
  /** Unauthenticated connections in arrival order (Map keeps insertion order), by remote address and port. */
  private readonly pending = new Map<string, Pending>();
  private readonly slotsByAddress = new Map<string, number>();
  private slotsTaken = 0;
  private openCount = 0;
  private readonly sockets = new Set<Socket>();
  private readonly closedBytes = { received: 0, sent: 0 };

  constructor(
    private readonly limits: ConnectionGuardLimits,
    private readonly onRefusal: (kind: GuardRefusal, address: string) => void,
  ) {}

  /** Watches `server`'s connections (raw TCP, also under TLS) and plain HTTP requests. */
  attach(server: HttpServer): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    // A plain request (dashboard, metrics) is the HTTP server's to time out; an upgrade must still authenticate.
    server.on('request', (request: IncomingMessage) => this.release(request.socket));
  }

  /** Open TCP connections now. */
  get open(): number {
    return this.openCount;
  }

  /** Bytes on the TCP sockets so far, each way: everything on the wire (TLS, framing, control, key setup). */
  get bytes(): { received: number; sent: number } {
    let { received, sent } = this.closedBytes;
    for (const s of this.sockets) {
      received += s.bytesRead;
      sent += s.bytesWritten;
    }
    return { received, sent };
  }

  /** Connections not yet authenticated now. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The connection authenticated: it no longer holds a handshake slot and has no deadline. */
  release(remote: { remoteAddress?: string | undefined; remotePort?: number | undefined }): void {
    this.drop(keyOf(remote));
  }

  /** By key: a destroyed socket no longer knows its remote address. */
  private drop(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    if (entry.slot) {
      this.slotsTaken--;
      bump(this.slotsByAddress, entry.address, -1);
    }
  }

  /**
   * Whether this connection, now ready to handshake, finds every slot taken and none it may take: asked at
   * that point rather than only at its TCP connect, since slots free up in between (peers hanging up).
   */
  isBusy(remote: { remoteAddress?: string | undefined; remotePort?: number | undefined }): boolean {
    const entry = this.pending.get(keyOf(remote));
    if (!entry) return false;
    if (!entry.slot) this.takeSlot(entry);
    return !entry.slot;
  }

  private admit(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress);
    const prefix = prefixOf(address);
    if ((this.openByAddress.get(address) ?? 0) >= this.limits.maxPerAddress || (this.openByPrefix.get(prefix) ?? 0) >= this.limits.maxPerPrefix) {
      this.onRefusal('too many open connections', address);
      socket.destroy();
      return;
    }
    const key = keyOf(socket);
    bump(this.openByAddress, address, 1);
    bump(this.openByPrefix, prefix, 1);
    this.openCount++;
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closedBytes.received += socket.bytesRead;
      this.closedBytes.sent += socket.bytesWritten;
      bump(this.openByAddress, address, -1);
      bump(this.openByPrefix, prefix, -1);
      this.openCount--;
      this.drop(key);
    });
    const timer = setTimeout(() => {
      if (!this.pending.has(key)) return;
      this.onRefusal('no handshake in time', address);
      socket.destroy();
    }, this.limits.preAuthTimeoutMs);
    timer.unref();
    const entry: Pending = { socket, address, timer, slot: false };
    this.pending.set(key, entry);
    this.takeSlot(entry);
  }

  /**
   * Gives `entry` a handshake slot: a free one, or the oldest slot of the address holding the most, when that
   * address holds more than the newcomer's. Otherwise the entry waits without one.
   */
  private takeSlot(entry: Pending): void {
    if (this.slotsTaken >= this.limits.maxPending) {
      let top: string | undefined;
      for (const [a, n] of this.slotsByAddress) if (top === undefined || n > this.slotsByAddress.get(top)!) top = a;
      if (top === undefined || this.slotsByAddress.get(top)! <= (this.slotsByAddress.get(entry.address) ?? 0)) return;
      const oldest = [...this.pending].find(([, p]) => p.slot && p.address === top);
      if (!oldest) return;
      this.onRefusal('evicted for a newcomer', top);
      this.drop(oldest[0]);
      oldest[1].socket.destroy();
    }
    entry.slot = true;
    this.slotsTaken++;
    bump(this.slotsByAddress, entry.address, 1);
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
