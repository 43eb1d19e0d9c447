import { signDownload } from '../crypto/downloadSignature.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import { clientProof } from '../crypto/handshake.js';
import { verifyAgreementKey } from '../crypto/agreementKey.js';
import { keyFingerprint, verify, type Identity } from '../crypto/identity.js';
import { MAX_REASON, type Message, type MessageOf, type StreamMeta } from '../protocol/messages.js';
import { Peer, maxHttpBufferSizeFor, type PeerOptions } from '../protocol/peer.js';
import type { SocketLike } from '../protocol/socketLike.js';
import type { TensorSpec } from '../protocol/tensors.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import type { AccessList, AllowedPeer } from './accessList.js';
import type { AuditTrail } from './auditTrail.js';
import { ClientRegistry } from './clientRegistry.js';
import { ClientSession } from './clientSession.js';
import { ConnectionGuard, normalizeAddress, type GuardRefusal } from './connectionGuard.js';
import { ConnectionLimiter } from './connectionLimiter.js';
import { HandshakeChecks, decodeBase64, type ChallengedNode } from './handshakeChecks.js';
import { createHttpEndpoint, HttpRoutes, type HttpHandler, type TlsOptions } from './httpEndpoint.js';
import type { StudySchema } from './studySchema.js';
import { watchTlsMistakes } from './tlsMistakes.js';
import type { HeldPayloads } from './payloadSender.js';
import { RefusalTally } from './refusalTally.js';
import { guardedParser, unlockDecoderOf } from '../protocol/guardedParser.js';
import type { CoordinatorEventMap } from './coordinatorEvents.js';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly runId: string;
  /** The model's spec: what clients must announce in hello. */
  readonly spec: readonly TensorSpec[];
  /** The study's data schema, which a training client's announced schema must match (studySchema.ts). */
  readonly schema?: StudySchema;
  readonly transfer: PeerOptions;
  /** A connection that has not finished its handshake within this time is closed. */
  readonly helloTimeoutMs: number;
  readonly identity: Identity;
  readonly access: AccessList;
  readonly audit: AuditTrail;
  readonly tls?: TlsOptions;
  readonly maxConnectionsPerMinute: number;
  readonly maxPendingHandshakes: number;
  /** Open connections from one address (and twice that from one IPv6 /64). */
  readonly maxConnectionsPerAddress: number;
  /** A training client announcing more examples than this at hello is refused (its weight is capped by it). */
  readonly maxExamplesPerClient?: number;
  readonly log: Logger;
  /** Reports joins, departures, refusals and traffic. */
  readonly report: <K extends keyof CoordinatorEventMap>(event: K, ...args: CoordinatorEventMap[K]) => void;
}

/** What the server reads of a socket.io socket: the Peer's surface, its id, and the request it came in on. */
type AcceptedSocket = SocketLike & { id: string; handshake: { address: string }; request: IncomingMessage };

/** How soon a node refused for a handshake out of order may try again. */
const HANDSHAKE_ORDER_RETRY_MS = 1_000;

/**
 * The socket.io endpoint: admits connections within limits, runs the mutual challenge-response, checks
 * the access list and the model, and registers authenticated sessions. Nothing else is served before that.
 */
export class CoordinatorServer {
  readonly registry = new ClientRegistry(() => {
    const access = this.options.access;
    return access.mode === 'allowlist' ? access.peers.filter((p) => p.role === 'client').map((p) => p.name) : [];
  });
  /** The payload each client last acknowledged, across its reconnects (PayloadSender). */
  private readonly heldPayloads: HeldPayloads = new Map();
  private readonly http: HttpServer;
  private readonly io: Server;
  private readonly limiter: ConnectionLimiter;
  private readonly guard: ConnectionGuard;
  private readonly tally: RefusalTally;
  private readonly routes: HttpRoutes;
  private readonly checks: HandshakeChecks;
  /** Counts refused messages and connections, for observability and tests. */
  refusals = 0;

  constructor(private readonly options: ServerOptions) {
    const tls = options.tls;
    this.http = createHttpEndpoint(tls, options.helloTimeoutMs);
    this.routes = new HttpRoutes(options.log);
    this.checks = new HandshakeChecks(options);
    this.tally = new RefusalTally(options.audit, options.log);
    this.guard = new ConnectionGuard(
      {
        maxPerAddress: options.maxConnectionsPerAddress,
        maxPerPrefix: 2 * options.maxConnectionsPerAddress,
        maxPending: options.maxPendingHandshakes,
        // The server's own hello timer answers first, with a reason; this one catches what never got that far.
        preAuthTimeoutMs: options.helloTimeoutMs + 1_000,
      },
      (kind, address) => this.guardRefused(kind, address),
    );
    this.guard.attach(this.http);
    this.http.on('request', (request: IncomingMessage, response: ServerResponse) => void this.routes.serve(request, response));
    watchTlsMistakes(this.http, { tls: tls !== undefined, mutual: tls?.requestClientCert ?? false }, (mistake) => {
      options.log.warn(mistake, 'TLS set-up mistake');
      options.report('tls-mistake', mistake);
    });
    this.io = new Server(this.http, {
      transports: ['websocket'],
      maxHttpBufferSize: maxHttpBufferSizeFor(options.transfer.chunkBytes),
      serveClient: false,
      // Depth-checked, and small packets only until the connection authenticates (guardedParser.ts).
      parser: guardedParser,
      connectTimeout: options.helloTimeoutMs,
    });
    this.limiter = new ConnectionLimiter(options.maxConnectionsPerMinute);
    this.io.on('connection', (socket) => this.accept(socket as unknown as AcceptedSocket));
  }

  /** Adds an HTTP route (metrics, dashboard); socket.io's own path is never passed to handlers. */
  addHttpHandler(handler: HttpHandler): void {
    this.routes.add(handler);
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
    return `${this.options.tls ? 'https' : 'http'}://${host}:${address.port}`;
  }

  /** Open TCP connections and those not yet authenticated, for observability and tests. */
  get connections(): { open: number; pending: number } {
    return { open: this.guard.open, pending: this.guard.pendingCount };
  }

  /** Bytes on the coordinator's TCP sockets so far, each way (TLS, framing, control and key setup included). */
  get socketBytes(): { received: number; sent: number } {
    return this.guard.bytes;
  }

  /** Writes the summary of the refusals counted so far to the audit log (also done every minute). */
  flushRefusals(): void {
    this.tally.flush();
  }

  async close(): Promise<void> {
    this.tally.close();
    this.registry.close('the coordinator was closed');
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  /** Cuts off every session whose peer the access list no longer admits. */
  enforceAccess(reason: string): string[] {
    const cut: string[] = [];
    for (const session of this.registry.all()) {
      if (!this.options.access.decide(session.summary.name, session.publicKey).ok) {
        session.kick(reason);
        this.registry.remove(session.summary.id);
        cut.push(session.summary.name);
        this.options.audit.append('client-revoked', { client: session.summary.name, key: keyFingerprint(session.publicKey), reason });
      }
    }
    return cut;
  }

  private guardRefused(kind: GuardRefusal, address: string): void {
    this.refusals++;
    this.options.report('refused', { problem: kind });
    this.tally.add('connection', address, kind);
  }

  private accept(socket: AcceptedSocket): void {
    const { log } = this.options;
    const address = normalizeAddress(socket.handshake.address);
    const busy = this.guard.isBusy(socket.request.socket)
      ? { reason: `too many handshakes in progress (limit ${this.options.maxPendingHandshakes})`, retryAfterMs: 2_000 }
      : undefined;
    const limited = this.limiter.admit(address) ?? busy;
    if (limited) {
      this.refusals++;
      this.options.report('refused', { problem: limited.reason });
      this.tally.add('connection', address, limited.reason);
      socket.emit('msg', { type: 'refused', reason: limited.reason, retryAfterMs: limited.retryAfterMs });
      socket.disconnect(true);
      return;
    }
    // Captured before the Peer's own listener runs: the handshake unlocks the decoder that produced the auth.
    let lastPayload: unknown;
    socket.on('msg', (payload: unknown) => void (lastPayload = payload));
    const peer = new Peer(socket, this.options.transfer);
    let session: ClientSession | undefined;
    let pending: ChallengedNode | undefined;
    const settle = () => this.guard.release(socket.request.socket);
    peer.onTraffic((direction, bytes) => this.options.report('traffic', { direction, bytes, ...(session ? { client: session.summary.name } : {}) }));
    peer.onProtocolError((problem) => {
      this.refusals++;
      this.options.report('refused', { problem, ...(session ? { client: session.summary.name } : {}) });
      log.warn({ socket: socket.id, client: session?.summary.name, problem }, 'refused inbound message');
    });
    /** `retryAfterMs` makes the refusal transient: the node may come back (a verdict on the connection, not on it). */
    const refuse = (reason: string, client?: string, retryAfterMs?: number) => {
      this.tally.add('auth-failed', address, reason, client ?? null);
      peer.notify({ type: 'refused', reason: reason.slice(0, MAX_REASON), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
      setTimeout(() => socket.disconnect(true), 50);
      throw new Error(reason);
    };
    const helloTimer = setTimeout(() => {
      if (session) return;
      // Transient: a legitimate client on a slow link or behind a busy coordinator may simply try again.
      const reason = `no completed handshake within ${this.options.helloTimeoutMs} ms`;
      this.tally.add('auth-failed', address, reason, pending?.hello.name ?? null);
      peer.notify({ type: 'refused', reason, retryAfterMs: 1_000 });
      setTimeout(() => socket.disconnect(true), 50);
    }, this.options.helloTimeoutMs);
    socket.on('disconnect', (reason) => {
      clearTimeout(helloTimer);
      // Unauthenticated, the connection keeps its deadline until its TCP socket closes: a peer that never
      // answers the WebSocket close (ws waits 30 s for it) must not escape the guard by being disconnected.
      if (!session) return;
      session.close(`disconnected (${String(reason)})`);
      if (this.registry.get(session.summary.id) === session) this.registry.remove(session.summary.id);
      log.info({ client: session.summary.name, reason }, 'client disconnected');
      this.options.report('client-left', session.summary, String(reason));
      this.options.audit.append('client-disconnected', { client: session.summary.name, reason: String(reason) });
    });
    peer.onMessage((message: Message) => {
      // Out of order says nothing about who the node is (a message left over from its previous connection looks
      // like this): the connection ends, and the node may start over.
      if (!pending) {
        if (message.type !== 'hello') refuse(`expected hello first, got "${message.type}"`, undefined, HANDSHAKE_ORDER_RETRY_MS);
        pending = this.checks.challenge(peer, message as MessageOf<'hello'>, refuse);
        return;
      }
      if (message.type !== 'auth') refuse(`expected auth after the challenge, got "${message.type}"`, pending.hello.name, HANDSHAKE_ORDER_RETRY_MS);
      const { context, hello, peer: allowed } = pending;
      if (!verify(clientProof(context), decodeBase64((message as MessageOf<'auth'>).signature), context.clientKey)) {
        refuse(`forged handshake: the signature does not verify with the key of "${hello.name}" (${keyFingerprint(context.clientKey)})`, hello.name);
      }
      const previous = this.registry.byName(hello.name);
      if (previous && !Buffer.from(previous.publicKey).equals(Buffer.from(context.clientKey))) {
        // Only the same key may take over a name (a reconnect); in open mode anyone could otherwise evict anyone.
        refuse(`a client named "${hello.name}" is already connected with another key`, hello.name);
      }
      const offered = (message as MessageOf<'auth'>).agreementKey;
      if (offered && !verifyAgreementKey({ publicKey: decodeBase64(offered.publicKey), signature: decodeBase64(offered.signature) }, context.clientKey, this.options.runId)) {
        refuse(`the agreement key of "${hello.name}" is not signed by its identity for this run`, hello.name);
      }
      if (allowed.role === 'client') this.checks.admitSchema(hello, refuse);
      const cap = this.options.maxExamplesPerClient;
      if (allowed.role === 'client' && cap !== undefined && hello.capabilities.numTrainExamples > cap) {
        refuse(`"${hello.name}" announces ${hello.capabilities.numTrainExamples} training examples, above this study's maxExamplesPerClient of ${cap}`, hello.name);
      }
      session = this.register(peer, hello, allowed);
      if (offered) session.acceptAgreementKey(offered);
      clearTimeout(helloTimer);
      settle();
      unlockDecoderOf(lastPayload);
      peer.notify({ type: 'welcome', protocolVersion: PROTOCOL_VERSION, runId: this.options.runId, clientId: session.summary.id });
    });
  }

  private register(peer: Peer, hello: MessageOf<'hello'>, allowed: AllowedPeer): ClientSession {
    const previous = this.registry.byName(hello.name);
    if (previous) {
      // Same name and key again: a reconnect whose old socket has not timed out yet. The newer connection wins.
      previous.kick('replaced by a newer connection with the same name');
      this.registry.remove(previous.summary.id);
    }
    const summary = {
      id: randomUUID(),
      name: hello.name,
      role: allowed.role,
      numTrainExamples: hello.capabilities.numTrainExamples,
      numTestExamples: hello.capabilities.numTestExamples,
      backend: hello.capabilities.backend,
      ...(hello.capabilities.datasetFingerprint ? { datasetFingerprint: hello.capabilities.datasetFingerprint } : {}),
    };
    const { runId, identity } = this.options;
    const signer = (meta: StreamMeta, sha256: string) => signDownload({ runId, client: summary.name, meta, payloadHash: sha256 }, identity.secretKey);
    const session = new ClientSession(peer, summary, allowed.publicKey, runId, this.options.audit, this.options.log, signer, this.heldPayloads);
    this.registry.add(session);
    if (session.role === 'client') this.options.report('client-joined', session.summary);
    this.options.log.info({ client: summary.name, role: summary.role, backend: summary.backend, train: summary.numTrainExamples }, 'client joined');
    this.options.audit.append('client-connected', { client: summary.name, role: summary.role, key: keyFingerprint(allowed.publicKey), backend: summary.backend });
    return session;
  }
}
