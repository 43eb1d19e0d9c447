/**
 * socket.io spoken by hand over a plain WebSocket (Engine.IO protocol 4, Socket.IO protocol 5), so a test
 * can put frames on the wire that no socket.io client would send: broken packet types, reserved event
 * names, bad attachment counts, stray binary frames.
 *
 * Frames: "0{...}" open, "2" ping / "3" pong, "4" + a socket.io packet: "40" connect, "42[event, ...args]"
 * event, "42<id>[...]" event with an ack id, "43<id>[...]" ack, "45<n>-[...]" event with n binary attachments.
 */
export class RawWire {
  private readonly acks = new Map<number, (payload: unknown) => void>();
  /** Far above the ids fuzzed frames carry (below 2^31), so their acks are never mistaken for ours. */
  private nextId = 1_000_000_000_000;
  private closedCode: number | undefined;
  private readonly closeWaiters: (() => void)[] = [];
  /** Every ack payload received, for checks after the fact. */
  readonly received: unknown[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    ws.addEventListener('close', (e: { code: number }) => {
      this.closedCode = e.code;
      for (const resolve of this.acks.values()) resolve('closed');
      this.acks.clear();
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }

  /** Opens the WebSocket to a socket.io server at `url` (http://host:port) and joins the main namespace. */
  static async open(url: string, timeoutMs = 5_000): Promise<RawWire> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const wire = new RawWire(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('raw socket.io connection timed out')), timeoutMs);
      const onMessage = (e: MessageEvent) => {
        if (typeof e.data !== 'string') return;
        if (e.data.startsWith('0{')) ws.send('40');
        if (e.data.startsWith('40')) {
          clearTimeout(timer);
          ws.removeEventListener('message', onMessage);
          resolve();
        }
      };
      ws.addEventListener('message', onMessage);
      ws.addEventListener('error', () => reject(new Error('raw socket.io connection failed')));
    });
    return wire;
  }

  get closed(): boolean {
    return this.closedCode !== undefined;
  }

  /** Resolves once the server has closed the connection (at once if it has). */
  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** Sends one frame as it is. Frames sent after the close are dropped, as a real socket would drop them. */
  send(frame: string | Uint8Array): void {
    if (!this.closed) this.ws.send(frame);
  }

  /** Emits `event` with `args` and an ack id; resolves with the ack's arguments, 'closed' or 'timeout'. */
  request(event: string, args: readonly unknown[], timeoutMs = 5_000): Promise<unknown> {
    if (this.closed) return Promise.resolve('closed');
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        resolve('timeout');
      }, timeoutMs);
      this.acks.set(id, (payload) => {
        clearTimeout(timer);
        resolve(payload);
      });
      this.ws.send(`42${id}${JSON.stringify([event, ...args])}`);
    });
  }

  close(): void {
    this.ws.close();
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    if (data === '2') {
      this.ws.send('3');
      return;
    }
    const ack = /^43(\d+)(\[.*)$/s.exec(data);
    if (!ack) return;
    const payload = (JSON.parse(ack[2]!) as unknown[])[0];
    this.received.push(payload);
    const id = Number(ack[1]);
    this.acks.get(id)?.(payload);
    this.acks.delete(id);
  }
}
