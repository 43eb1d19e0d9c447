import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { MessageOf } from '../protocol/messages.js';
import { Peer, maxHttpBufferSizeFor, defaultPeerOptions, type PeerOptions } from '../protocol/peer.js';
import type { SocketLike } from '../protocol/socketLike.js';
import { specMismatch, type TensorSpec } from '../protocol/tensors.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { ClientRegistry } from './clientRegistry.js';
import { ClientSession } from './clientSession.js';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly runId: string;
  readonly spec: readonly TensorSpec[];
  readonly transfer: PeerOptions;
  /** A connection that has not said hello within this time is closed. */
  readonly helloTimeoutMs: number;
  readonly log: Logger;
}

/** The socket.io endpoint: accepts connections, checks hello, and registers sessions. */
export class CoordinatorServer {
  readonly registry = new ClientRegistry();
  private readonly http: HttpServer;
  private readonly io: Server;
  /** Counts refused messages and connections, for observability and tests. */
  refusals = 0;

  constructor(private readonly options: ServerOptions) {
    this.http = createServer();
    this.io = new Server(this.http, {
      transports: ['websocket'],
      maxHttpBufferSize: maxHttpBufferSizeFor(options.transfer.chunkBytes),
      serveClient: false,
    });
    this.io.on('connection', (socket) => this.accept(socket as unknown as SocketLike & { id: string }));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const address = this.http.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  private accept(socket: SocketLike & { id: string }): void {
    const log = this.options.log;
    const peer = new Peer(socket, this.options.transfer);
    let session: ClientSession | undefined;
    peer.onProtocolError((problem) => {
      this.refusals++;
      log.warn({ socket: socket.id, client: session?.summary.name, problem }, 'refused inbound message');
    });
    const refuse = (reason: string) => {
      log.warn({ socket: socket.id, reason }, 'connection refused');
      peer.notify({ type: 'refused', reason });
      setTimeout(() => socket.disconnect(true), 50);
    };
    const helloTimer = setTimeout(() => {
      if (!session) refuse(`no hello within ${this.options.helloTimeoutMs} ms`);
    }, this.options.helloTimeoutMs);
    socket.on('disconnect', (reason) => {
      clearTimeout(helloTimer);
      if (!session) return;
      session.close(`disconnected (${String(reason)})`);
      if (this.registry.get(session.summary.id) === session) this.registry.remove(session.summary.id);
      log.info({ client: session.summary.name, reason }, 'client disconnected');
    });
    peer.onMessage((message) => {
      if (message.type !== 'hello') throw new Error(`expected hello first, got "${message.type}"`);
      session = this.greet(peer, message, refuse);
      clearTimeout(helloTimer);
      peer.notify({ type: 'welcome', protocolVersion: PROTOCOL_VERSION, runId: this.options.runId, clientId: session.summary.id });
    });
  }

  private greet(peer: Peer, hello: MessageOf<'hello'>, refuse: (reason: string) => void): ClientSession {
    const problem =
      hello.protocolVersion !== PROTOCOL_VERSION
        ? `protocol version ${hello.protocolVersion} is not supported: this coordinator speaks version ${PROTOCOL_VERSION}; upgrade the older side`
        : specMismatch(this.options.spec, hello.modelSpec)
          ? `the client's model does not match the federation's: ${specMismatch(this.options.spec, hello.modelSpec)}`
          : undefined;
    if (problem) {
      refuse(problem);
      throw new Error(problem);
    }
    const previous = this.registry.byName(hello.name);
    if (previous) {
      // Same name again: a reconnect whose old socket has not timed out yet. The newer connection wins.
      previous.kick('replaced by a newer connection with the same name');
      this.registry.remove(previous.summary.id);
    }
    const summary = {
      id: randomUUID(),
      name: hello.name,
      numTrainExamples: hello.capabilities.numTrainExamples,
      numTestExamples: hello.capabilities.numTestExamples,
      backend: hello.capabilities.backend,
    };
    const session = new ClientSession(peer, summary, this.options.spec, this.options.log);
    this.registry.add(session);
    this.options.log.info({ client: summary.name, backend: summary.backend, train: summary.numTrainExamples }, 'client joined');
    return session;
  }
}

export { defaultPeerOptions };
