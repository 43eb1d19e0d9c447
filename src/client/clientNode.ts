import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { generateIdentity } from '../crypto/identity.js';
import { clientModes } from '../modes/clientModes.js';
import type { Message, StreamMeta } from '../protocol/messages.js';
import { Peer, defaultPeerOptions, type StreamSink } from '../protocol/peer.js';
import type { SocketLike } from '../protocol/socketLike.js';
import type { ClientHandle, ClientOptions } from './clientOptions.js';
import { FitChains } from './mods/chainFor.js';
import { AuditAnchor } from './node/auditAnchor.js';
import { ClientHandshake } from './node/clientHandshake.js';
import { DownloadGuard } from './node/downloadGuard.js';
import { describeRetry, Reconnector } from './node/reconnect.js';
import { diagnoseTls, transportError } from './node/tlsDiagnosis.js';
import { TaskRunner } from './node/taskRunner.js';
import { resolveSecurityPolicy } from './security/securityPolicy.js';
import { statisticsRefusal } from './security/taskGate.js';
import { LocalPrivacy } from './updatePrivacy.js';

export type { ClientEvent, ClientHandle, ClientOptions } from './clientOptions.js';

/**
 * A client node: connects, proves its identity, then trains and evaluates whatever the coordinator streams to
 * it, one task at a time, within its own security policy. The secure-aggregation modes read downloads and
 * protect uploads; the fit chain (local DP, clipping, control variates) shapes the update. Errors in a task
 * are reported to the coordinator and never end the process. Every transient failure (no coordinator yet, a lost
 * connection, a refusal for load) is retried forever with capped, jittered backoff, and said so in an event and
 * the log; only a permanent refusal (not allowed, wrong key, wrong protocol version) or the run's end stops it.
 */
export function startClient(options: ClientOptions): ClientHandle {
  const log = (options.logger ?? pino({ level: 'warn' }, pino.destination(2))).child({ client: options.name });
  const transfer = { ...defaultPeerOptions, ...options.transfer };
  const emit = options.onEvent ?? (() => undefined);
  // Checked before any connection is opened: a config that cannot work fails here.
  const localPrivacy = options.localPrivacy ? new LocalPrivacy(options.localPrivacy) : undefined;
  const policy = resolveSecurityPolicy(options.security, options.url);
  const identity = options.identity ?? generateIdentity();
  const audit = options.audit ?? { append: () => undefined };
  if (!options.coordinatorKey) log.warn('no coordinator key pinned: any coordinator that completes the handshake is trusted');
  const socket: Socket = io(options.url, {
    transports: ['websocket'],
    ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
    ...(options.tls?.cert ? { cert: options.tls.cert } : {}),
    ...(options.tls?.key ? { key: options.tls.key } : {}),
    // Reconnection is this node's own (below): socket.io's does not come back after a server-side disconnect,
    // which is how a busy coordinator refuses, and does not say when it will try again.
    reconnection: false,
  });
  const peer = new Peer(socket as unknown as SocketLike, transfer);
  /** Whether this connection was welcomed into the run (false from a disconnect until the next welcome). */
  let joined = false;
  /** Set once the node is ending (run over, refused for good, stopped): nothing reconnects after that. */
  let ending = false;
  /** A refusal for load just received: the disconnect that follows waits as long as the coordinator advised. */
  let busy: { reason: string; retryAfterMs: number } | undefined;
  const reconnect = new Reconnector({
    baseMs: options.reconnectDelayMs ?? 1_000,
    maxMs: options.reconnectDelayMaxMs ?? 30_000,
    connect: () => socket.connect(),
    onRetry: (retry) => {
      emit({ type: 'retrying', ...retry });
      const line = describeRetry(retry, options.url);
      if (retry.cause === 'busy') log.warn({ reason: retry.reason, delayMs: retry.delayMs }, line);
      else log.info({ reason: retry.reason, delayMs: retry.delayMs }, line);
    },
  });
  let settleDone: { resolve: (reason: string) => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<string>((resolve, reject) => (settleDone = { resolve, reject }));
  done.catch(() => undefined);

  /** Refuses a task outside this node's security policy: audited here, and the coordinator is told why. */
  const refuseTask = (kind: string, round: number, taskId: string, reason: string) => {
    audit.append(kind.endsWith('(download)') ? 'download-refused' : 'task-refused', { run: handshake.runId ?? null, round, task: taskId, kind, reason });
    emit({ type: 'task-failed', round, reason });
    log.error({ round, kind, reason }, 'refused a task');
  };
  const guard = new DownloadGuard(options.name, policy, options.localPrivacy, refuseTask, (header) => modes.find((m) => m.readsDownload(header))!.name);
  const modes = clientModes({
    name: options.name,
    identity,
    policy,
    chunkBytes: transfer.chunkBytes,
    ...(options.ckksThreads !== undefined ? { threads: options.ckksThreads } : {}),
    audit,
    log,
    // A mode's reply belongs to the connection that asked: one computed before a reconnection is dropped, never
    // sent ahead of the new connection's hello (the coordinator would refuse this node for good).
    send: (message) => (joined ? peer.send(message) : Promise.reject(new Error(`not sending ${message.type}: the connection that asked for it is gone`))),
    refuse: (round, reason) => (refuseTask('fit', round, '', reason), new Error(reason)),
    ...(options.simulation?.onSecAggEncoded ? { onSecAggEncoded: options.simulation.onSecAggEncoded } : {}),
  });
  const anchor = new AuditAnchor({ identity, audit, send: (message) => peer.send(message) });
  const tasks = new TaskRunner({
    name: options.name,
    trainer: options.trainer,
    scaler: options.scaler,
    identity,
    peer,
    chunkBytes: transfer.chunkBytes,
    modes,
    chains: new FitChains({
      ...(localPrivacy ? { localPrivacy } : {}),
      onLocalRelease: (round, epsilon) => emit({ type: 'local-privacy', round, epsilon, delta: options.localPrivacy!.delta }),
    }),
    guard,
    audit,
    log,
    emit,
    refuse: refuseTask,
    runId: () => handshake.runId,
    modelSpec: () => handshake.modelSpec ?? [],
    ...(options.simulation?.leaveAt ? { dropout: { leaveAt: options.simulation.leaveAt, leave: () => socket.disconnect() } } : {}),
  });

  const finish = async (outcome: { reason: string; refused: boolean }) => {
    if (ending) return;
    ending = true;
    reconnect.stop();
    // Let a reply still in flight (the last evaluation) go out before closing.
    await tasks.drain(2_000);
    socket.disconnect();
    modes.forEach((m) => m.dispose());
    if (outcome.refused) settleDone?.reject(new Error(`coordinator refused ${options.name}: ${outcome.reason}`));
    else settleDone?.resolve(outcome.reason);
  };

  /** A refusal for good (not allowed, wrong key, a hello the coordinator can never accept): the node ends. */
  const refusedForGood = (reason: string) => {
    if (ending) return;
    emit({ type: 'refused', reason });
    log.error({ reason }, 'the coordinator refused this client');
    audit.append('refused', { reason });
    void finish({ reason, refused: true });
  };

  const handshake = new ClientHandshake({
    options,
    identity,
    peer,
    modes,
    guard,
    anchor,
    audit,
    emit,
    log,
    refusedForGood,
    refuseCoordinator: (reason) => void finish({ reason, refused: true }),
  });

  socket.on('connect', () => {
    handshake.connected();
    emit({ type: 'connected' });
    void handshake.hello();
  });
  socket.on('disconnect', (reason) => {
    joined = false;
    // What socket.io held back on this connection (a send after its ping deadline passed, under a stalled event
    // loop) belongs to it: replayed ahead of the next connection's hello, a stale hello or auth gets this node
    // refused for good.
    socket.sendBuffer = [];
    socket.receiveBuffer = [];
    emit({ type: 'disconnected', reason });
    log.info({ reason }, 'disconnected');
    if (ending) return;
    const refusal = busy;
    busy = undefined;
    if (refusal) reconnect.schedule('busy', refusal.reason, refusal.retryAfterMs);
    else reconnect.schedule('disconnected', reason);
  });
  /** The last TLS mistake said, so a node retrying for hours says it once, and again only when it changes. */
  let tlsProblem: string | undefined;
  socket.on('connect_error', (e) => {
    const cause = transportError(e);
    log.debug({ error: e.message, cause: cause.code ?? cause.message }, 'connection attempt failed');
    if (ending) return;
    reconnect.schedule('unreachable', cause.message);
    void diagnoseTls(options.url, cause, options.tls).then((problem) => {
      if (!problem || problem === tlsProblem || ending) return;
      tlsProblem = problem;
      emit({ type: 'tls-problem', problem });
      log.error({ problem }, 'TLS set-up mistake');
    });
  });

  peer.onProtocolError((problem) => log.warn({ problem }, 'refused a message from the coordinator'));
  peer.onMessage((message: Message) => {
    const owner = modes.find((m) => m.messages.includes(message.type));
    if (owner) return owner.handle(message, handshake.runId ?? '');
    switch (message.type) {
      case 'challenge':
        return handshake.answerChallenge(message);
      case 'welcome':
        joined = true;
        audit.append('joined', { run: message.runId, client: message.clientId });
        reconnect.reset();
        emit({ type: 'welcome', runId: message.runId, clientId: message.clientId });
        log.info({ run: message.runId }, 'joined the federation');
        return;
      case 'refused':
        if (message.retryAfterMs !== undefined) {
          // A load limit, not a verdict on this client: hang up and come back when the coordinator advised.
          busy = { reason: message.reason, retryAfterMs: message.retryAfterMs };
          socket.disconnect();
          return;
        }
        refusedForGood(message.reason);
        return;
      case 'run-end':
        emit({ type: 'run-end', reason: message.reason });
        void finish({ reason: message.reason, refused: false });
        return;
      case 'audit-head':
        return anchor.handle(message);
      case 'statistics-request': {
        const refusal = statisticsRefusal(policy);
        if (refusal) {
          refuseTask('statistics', 0, message.taskId, refusal);
          void peer.send({ type: 'statistics-failure', taskId: message.taskId, reason: refusal }).catch(() => undefined);
          return;
        }
        tasks.sendMoments(message.taskId);
        return;
      }
      default:
        throw new Error(`a coordinator may not send "${message.type}"`);
    }
  });

  peer.onStream(async (meta: StreamMeta): Promise<StreamSink> => {
    if (meta.kind === 'fit-result' || meta.kind === 'statistics-result') throw new Error(`a coordinator may not send a ${meta.kind} stream`);
    tasks.requireHeld(meta);
    guard.screen(meta);
    return tasks.open(meta);
  });

  return {
    done,
    globalWeights: () => tasks.lastGlobal,
    stop: async () => {
      ending = true;
      reconnect.stop();
      socket.disconnect();
      modes.forEach((m) => m.dispose());
      settleDone?.resolve('stopped');
    },
  };
}
