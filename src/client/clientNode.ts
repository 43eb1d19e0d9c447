import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { canonicalClaims, clientProof, NONCE_BYTES, uploadTranscript, type HandshakeContext } from '../crypto/handshake.js';
import { generateIdentity, sign } from '../crypto/identity.js';
import { encodeBase64 } from '../crypto/keyEncoding.js';
import type { ClientMode, GlobalState } from '../modes/clientMode.js';
import { clientModes } from '../modes/clientModes.js';
import type { Message, StreamMeta, StreamMetaOf } from '../protocol/messages.js';
import { Peer, defaultPeerOptions, type StreamSink } from '../protocol/peer.js';
import type { SocketLike } from '../protocol/socketLike.js';
import { TensorStreamDecoder, WeightsCollector } from '../protocol/tensorCodec.js';
import { specOf, type TensorSpec, type Weights } from '../protocol/tensors.js';
import { COHORT_VERSION, PROTOCOL_VERSION } from '../protocol/version.js';
import type { ClientHandle, ClientOptions } from './clientOptions.js';
import { FitChains } from './mods/chainFor.js';
import type { FitChain } from './mods/fitChain.js';
import { challengeProblem } from './node/coordinatorProofCheck.js';
import { DownloadGuard } from './node/downloadGuard.js';
import { applyStandardization, sendFeatureMoments } from './node/featureStatistics.js';
import { resolveSecurityPolicy } from './security/securityPolicy.js';
import { statisticsRefusal } from './security/taskGate.js';
import { LocalPrivacy } from './updatePrivacy.js';

export type { ClientEvent, ClientHandle, ClientOptions } from './clientOptions.js';

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A client node: connects, proves its identity, then trains and evaluates whatever the coordinator streams to
 * it, one task at a time, within its own security policy. The secure-aggregation modes read downloads and
 * protect uploads; the fit chain (local DP, clipping, control variates) shapes the update. Errors in a task
 * are reported to the coordinator and never end the process; a dropped connection is retried with backoff.
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
    reconnection: true,
    reconnectionDelay: options.reconnectDelayMs ?? 1_000,
    reconnectionDelayMax: options.reconnectDelayMaxMs ?? 30_000,
    randomizationFactor: 0.5,
  });
  const peer = new Peer(socket as unknown as SocketLike, transfer);
  let modelSpec: TensorSpec[] | undefined;
  /** The run this connection authenticated into; uploads are signed for it. */
  let runId: string | undefined;
  let clientNonce = new Uint8Array(0);
  let queue: Promise<void> = Promise.resolve();
  let lastGlobal: Weights | undefined;
  /** The last payload this node received whole: a later task may name it instead of sending it again. */
  let held: { readonly sha256: string; readonly read: () => Promise<GlobalState> } | undefined;
  let stopped = false;
  let settleDone: { resolve: (reason: string) => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<string>((resolve, reject) => (settleDone = { resolve, reject }));
  done.catch(() => undefined);

  /** Refuses a task outside this node's security policy: audited here, and the coordinator is told why. */
  const refuseTask = (kind: string, round: number, taskId: string, reason: string) => {
    audit.append(kind.endsWith('(download)') ? 'download-refused' : 'task-refused', { run: runId ?? null, round, task: taskId, kind, reason });
    emit({ type: 'task-failed', round, reason });
    log.error({ round, kind, reason }, 'refused a task');
  };
  const guard = new DownloadGuard(options.name, policy, options.localPrivacy, refuseTask);
  const modes = clientModes({
    name: options.name,
    identity,
    policy,
    chunkBytes: transfer.chunkBytes,
    audit,
    log,
    send: (message) => peer.send(message),
    refuse: (round, reason) => (refuseTask('fit', round, '', reason), new Error(reason)),
  });
  const chains = new FitChains({
    ...(localPrivacy ? { localPrivacy } : {}),
    onLocalRelease: (round, epsilon) => emit({ type: 'local-privacy', round, epsilon, delta: options.localPrivacy!.delta }),
  });

  const finish = async (outcome: { reason: string; refused: boolean }) => {
    socket.io.reconnection(false);
    // Let a reply still in flight (the last evaluation) go out before closing.
    await Promise.race([queue, new Promise((r) => setTimeout(r, 2_000))]);
    socket.disconnect();
    modes.forEach((m) => m.dispose());
    if (outcome.refused) settleDone?.reject(new Error(`coordinator refused ${options.name}: ${outcome.reason}`));
    else settleDone?.resolve(outcome.reason);
  };

  const hello = async () => {
    try {
      modelSpec ??= specOf(await options.trainer.getWeights());
      clientNonce = new Uint8Array(randomBytes(NONCE_BYTES));
      runId = undefined;
      guard.disconnected();
      await peer.send({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        name: options.name,
        identityKey: encodeBase64(identity.publicKey),
        nonce: encodeBase64(clientNonce),
        capabilities: { ...options.trainer.describe(), cohortVersion: COHORT_VERSION },
        modelSpec: modelSpec.map((t) => ({ name: t.name, shape: [...t.shape] })),
      });
    } catch (e) {
      // The coordinator says why (a 'refused' message) and closes the connection; log what we know.
      log.warn({ error: errorText(e) }, 'hello was not accepted');
    }
  };

  const answerChallenge = (message: Extract<Message, { type: 'challenge' }>) => {
    const context: HandshakeContext = {
      runId: message.runId,
      protocolVersion: PROTOCOL_VERSION,
      clientName: options.name,
      clientKey: identity.publicKey,
      clientNonce,
      coordinatorKey: new Uint8Array(Buffer.from(message.coordinatorKey, 'base64')),
      coordinatorNonce: new Uint8Array(Buffer.from(message.nonce, 'base64')),
    };
    const problem = challengeProblem(message, context, options.coordinatorKey);
    if (problem) {
      audit.append('auth-failed', { reason: problem });
      emit({ type: 'refused', reason: problem });
      log.error({ reason: problem }, 'refusing the coordinator');
      void finish({ reason: problem, refused: true });
      return;
    }
    runId = message.runId;
    guard.authenticated(message.runId, context.coordinatorKey);
    const announced = modes.map((m) => m.announce?.(message.runId)).find((a) => a !== undefined);
    void peer
      .send({
        type: 'auth',
        signature: encodeBase64(sign(clientProof(context), identity.secretKey)),
        ...(announced ? { agreementKey: { publicKey: announced.publicKey, signature: announced.signature, holdsKey: announced.holdsKey } } : {}),
      })
      .catch((e: unknown) => log.warn({ error: errorText(e) }, 'auth was not accepted'));
  };

  socket.on('connect', () => {
    emit({ type: 'connected' });
    void hello();
  });
  socket.on('disconnect', (reason) => {
    emit({ type: 'disconnected', reason });
    log.info({ reason }, 'disconnected');
  });
  socket.on('connect_error', (e) => log.debug({ error: e.message }, 'connection attempt failed; retrying with backoff'));

  peer.onProtocolError((problem) => log.warn({ problem }, 'refused a message from the coordinator'));
  peer.onMessage((message: Message) => {
    const owner = modes.find((m) => m.messages.includes(message.type));
    if (owner) return owner.handle(message, runId ?? '');
    switch (message.type) {
      case 'challenge':
        return answerChallenge(message);
      case 'welcome':
        audit.append('joined', { run: message.runId, client: message.clientId });
        emit({ type: 'welcome', runId: message.runId, clientId: message.clientId });
        log.info({ run: message.runId }, 'joined the federation');
        return;
      case 'refused':
        if (message.retryAfterMs !== undefined) {
          // A load limit, not a verdict on this client: come back later (with jitter, so a crowd spreads out).
          log.info({ reason: message.reason, retryAfterMs: message.retryAfterMs }, 'coordinator busy; retrying later');
          setTimeout(() => {
            if (!stopped) socket.connect();
          }, message.retryAfterMs * (1 + Math.random() * 0.5)).unref();
          return;
        }
        emit({ type: 'refused', reason: message.reason });
        log.error({ reason: message.reason }, 'the coordinator refused this client');
        audit.append('refused', { reason: message.reason });
        void finish({ reason: message.reason, refused: true });
        return;
      case 'run-end':
        emit({ type: 'run-end', reason: message.reason });
        void finish({ reason: message.reason, refused: false });
        return;
      case 'statistics-request': {
        const refusal = statisticsRefusal(policy);
        if (refusal) {
          refuseTask('statistics', 0, message.taskId, refusal);
          void peer.send({ type: 'statistics-failure', taskId: message.taskId, reason: refusal }).catch(() => undefined);
          return;
        }
        queue = queue.then(() => sendMoments(message.taskId));
        return;
      }
      default:
        throw new Error(`a coordinator may not send "${message.type}"`);
    }
  });

  peer.onStream(async (meta: StreamMeta): Promise<StreamSink> => {
    if (meta.kind === 'fit-result' || meta.kind === 'statistics-result') throw new Error(`a coordinator may not send a ${meta.kind} stream`);
    guard.screen(meta);
    if (meta.kind === 'standardize') return standardizationSink(meta);
    // A fit task's chain says what its download holds (the model, or a step's larger layout); built now, its
    // conflicts refuse the task before any byte is read.
    const chain = meta.kind === 'fit' ? chains.for(meta.config, fitMode(meta), runId ?? '') : undefined;
    const runTask = (read: () => Promise<GlobalState>) => {
      // Train (or evaluate) after acknowledging the stream, one task at a time.
      queue = queue.then(async () => {
        try {
          const state = await read();
          lastGlobal = chain ? chain.modelOf(state.weights) : state.weights;
          await (meta.kind === 'fit' ? runFit(meta, state, chain!) : runEvaluate(meta, state.weights));
        } catch (e) {
          await reportFailure(meta.kind === 'fit' ? 'fit-failure' : 'evaluate-failure', meta.round, meta.taskId, e);
        }
      });
    };
    if (meta.reuses !== undefined) {
      // The payload this client acknowledged last (the global it evaluated is the one it now trains from).
      const reused = held;
      if (reused?.sha256 !== meta.reuses) throw new Error(`the task reuses payload ${meta.reuses.slice(0, 16)}..., which this client does not hold`);
      return {
        write: () => {
          throw new Error('a task that reuses a payload carries no bytes');
        },
        end: (trailer) => {
          guard.check(meta, trailer);
          runTask(reused.read);
        },
        abort: (reason) => log.warn({ kind: meta.kind, reason }, 'incoming stream aborted'),
      };
    }
    const mode = modes.find((m) => m.readsDownload(meta))!;
    const download = mode.openDownload(meta, chain ? chain.downloadSpec(modelSpec ?? []) : (modelSpec ?? []));
    return {
      write: (chunk) => download.write(chunk),
      end: (trailer) => {
        guard.check(meta, trailer);
        const decode = download.end();
        let state: Promise<GlobalState> | undefined;
        const read = () => (state ??= decode());
        held = { sha256: trailer.sha256, read };
        runTask(read);
      },
      abort: (reason) => log.warn({ kind: meta.kind, reason }, 'incoming stream aborted'),
    };
  });

  /** The mode that protects a fit task's upload: the first that takes its config (plain takes any). */
  const fitMode = (meta: StreamMetaOf<'fit'>): ClientMode => modes.find((m) => m.takesFit(meta.config))!;

  const standardizationSink = (meta: StreamMetaOf<'standardize'>): StreamSink => {
    const collector = new WeightsCollector();
    const decoder = new TensorStreamDecoder(collector);
    return {
      write: (chunk) => decoder.push(chunk),
      end: async (trailer) => {
        guard.check(meta, trailer);
        decoder.end();
        // Applied before acknowledging: the coordinator sends tasks only to clients that finished this.
        const applied = queue.then(() => applyStandardization(options.scaler, collector.weights()));
        queue = applied.then(() => undefined, () => undefined);
        emit({ type: 'standardized', features: await applied });
      },
      abort: (reason) => log.warn({ reason }, 'incoming standardization aborted'),
    };
  };

  const sendMoments = async (taskId: string) => {
    try {
      await sendFeatureMoments(peer, options.scaler, taskId, transfer.chunkBytes, (sha256, rows) => signUpload(0, taskId, 'statistics-result', { numExamples: rows }, sha256));
    } catch (e) {
      log.error({ error: errorText(e) }, 'sending feature statistics failed');
      await peer.send({ type: 'statistics-failure', taskId, reason: errorText(e).slice(0, 4000) }).catch(() => undefined);
    }
  };

  const reportFailure = async (kind: 'fit-failure' | 'evaluate-failure', round: number, taskId: string, e: unknown) => {
    const reason = errorText(e);
    emit({ type: 'task-failed', round, reason });
    audit.append('task-failed', { run: runId ?? null, round, task: taskId, kind, reason });
    log.error({ round, reason }, `${kind === 'fit-failure' ? 'fit' : 'evaluate'} failed`);
    await peer.send({ type: kind, round, taskId, reason: reason.slice(0, 4000) }).catch(() => undefined);
  };

  /** Signs (run, round, task, this client, claims, payload hash) and records what left this site. */
  const signUpload = (round: number, taskId: string, kind: string, claims: Readonly<Record<string, number>>, sha256: string): string => {
    if (!runId) throw new Error('not authenticated to a run');
    const claimsText = canonicalClaims(claims);
    const signature = encodeBase64(sign(uploadTranscript({ runId, round, taskId, client: options.name, kind, claims: claimsText, payloadHash: sha256 }), identity.secretKey));
    audit.append('upload-sent', { run: runId, round, task: taskId, kind, claims: claimsText, sha256, signature });
    return signature;
  };

  /** Train through the chain, let the mode protect the update, upload it signed. */
  const runFit = async (meta: StreamMetaOf<'fit'>, state: GlobalState, chain: FitChain) => {
    const update = await chain.run({ round: meta.round, config: meta.config, download: state.weights, trainer: options.trainer });
    const upload = await fitMode(meta).protect(update, { ...state, weights: update.global }, meta.config);
    const { numExamples } = update;
    await peer.sendStream({ kind: 'fit-result', round: meta.round, taskId: meta.taskId, numExamples, metrics: upload.metrics, ...upload.header }, upload.totalBytes, upload.chunks, {
      sign: (sha256) => signUpload(meta.round, meta.taskId, 'fit-result', { numExamples, ...upload.metrics }, sha256),
    });
    update.sent?.();
    emit({ type: 'fit', round: meta.round, numExamples, metrics: upload.metrics });
  };

  const runEvaluate = async (meta: StreamMetaOf<'evaluate'>, global: Weights) => {
    await options.trainer.setWeights(global);
    const outcome = await options.trainer.evaluate(meta.config);
    const signature = signUpload(meta.round, meta.taskId, 'evaluate-result', { numExamples: outcome.numExamples, loss: outcome.loss, ...outcome.metrics }, '');
    await peer.send({ type: 'evaluate-result', round: meta.round, taskId: meta.taskId, numExamples: outcome.numExamples, loss: outcome.loss, metrics: outcome.metrics, signature });
    emit({ type: 'evaluate', round: meta.round, loss: outcome.loss, metrics: outcome.metrics });
  };

  return {
    done,
    globalWeights: () => lastGlobal,
    stop: async () => {
      stopped = true;
      socket.io.reconnection(false);
      socket.disconnect();
      modes.forEach((m) => m.dispose());
      settleDone?.resolve('stopped');
    },
  };
}
