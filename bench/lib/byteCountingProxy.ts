import { connect, createServer, type Server, type Socket } from 'node:net';

/** Bytes that crossed a proxy so far, each direction. */
export interface ByteCount {
  /** Client to coordinator. */
  readonly up: number;
  /** Coordinator to client. */
  readonly down: number;
}

/**
 * A loopback TCP relay that counts every byte in each direction: what the client's socket sends and
 * receives (HTTP upgrade, WebSocket and socket.io framing, acknowledgements, handshakes, key boxes and
 * payloads), not what the application thinks it sent. TCP/IP headers are not counted. One proxy per client,
 * so counts are per client; reconnections are counted too.
 */
export class ByteCountingProxy {
  up = 0;
  down = 0;
  connections = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1 (a free port) and relays each connection to `target`. */
  static async start(target: { readonly host: string; readonly port: number }): Promise<ByteCountingProxy> {
    let proxy: ByteCountingProxy | undefined;
    const server = createServer({ noDelay: true }, (client) => proxy!.relay(client, target));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    proxy = new ByteCountingProxy(server, port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  snapshot(): ByteCount {
    return { up: this.up, down: this.down };
  }

  /** Cuts every connection relayed so far (a network failure); new connections are relayed as before. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket, target: { readonly host: string; readonly port: number }): void {
    this.connections++;
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    }
    // A second 'data' listener next to pipe() sees the same chunks; pipe() keeps the back-pressure.
    client.on('data', (d: Buffer) => void (this.up += d.length));
    upstream.on('data', (d: Buffer) => void (this.down += d.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once('error', end);
    upstream.once('error', end);
    client.once('close', end);
    upstream.once('close', end);
  }
}

/** `b - a`, each direction. */
export const countBetween = (a: ByteCount, b: ByteCount): ByteCount => ({ up: b.up - a.up, down: b.down - a.down });
