import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { canonicalClaims, clientProof, coordinatorProof, NONCE_BYTES, uploadTranscript, type HandshakeContext } from '../crypto/handshake.js';
import { generateIdentity, keyFingerprint, sign, verify } from '../crypto/identity.js';
import { encodeBase64 } from '../crypto/keyEncoding.js';
import { io, type Socket } from 'socket.io-client';
import type { Message, StreamMeta, StreamMetaOf } from '../protocol/messages.js';
import { Peer, defaultPeerOptions, type StreamSink, type StreamTrailer } from '../protocol/peer.js';
import type { SocketLike } from '../protocol/socketLike.js';
import { TensorStreamDecoder, WeightsCollector, encodeWeightsChunks, encodedByteLength } from '../protocol/tensorCodec.js';
import { specOf, type TensorSpec, type Weights } from '../protocol/tensors.js';
import { COHORT_VERSION, PROTOCOL_VERSION } from '../protocol/version.js';
import { momentsWeights } from '../protocol/featureMoments.js';
import { CkksMember } from './ckksMember.js';
import type { ClientHandle, ClientOptions } from './clientOptions.js';
import { addWeights, subtractWeights } from './weightDelta.js';
import { resolveSecurityPolicy } from './security/securityPolicy.js';
import { clipNormRefusal, evaluateTaskRefusal, fitTaskRefusal, fitTaskTerms, statisticsRefusal } from './security/taskGate.js';
import { verifyDownload } from '../crypto/downloadSignature.js';
import { ScaffoldMember, fitDownloadModel, fitDownloadSpec, isScaffoldTask } from './scaffoldMember.js';
import { LocalPrivacy } from './updatePrivacy.js';
import { encryptedContribution } from './encryptedContribution.js';
import { readEncryptedInstructions } from '../protocol/encryptedInstructions.js';
import type { EncryptedRoundState } from '../protocol/encryptedLayout.js';
import { clipToNorm } from '../privacy/l2Clip.js';

export type { ClientEvent, ClientHandle, ClientOptions } from './clientOptions.js';

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A client node: connects, says hello with its capabilities, then trains and evaluates whatever the
 * coordinator streams to it, one task at a time. Errors in a task are reported to the coordinator and
 * never end the process; a dropped connection is retried with backoff.
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
  /** The coordinator's identity key proved in this connection's handshake: every task it streams is signed with it. */
  let provenCoordinatorKey: Uint8Array | undefined;
  /** Task ids already received in `seenRun`: a replayed task is refused. */
  const seenTasks = new Set<string>();
  let seenRun: string | undefined;
  let clientNonce = new Uint8Array(0);
  let queue: Promise<void> = Promise.resolve();
  let settleDone: { resolve: (reason: string) => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<string>((resolve, reject) => (settleDone = { resolve, reject }));
  done.catch(() => undefined);

  const finish = async (outcome: { reason: string; refused: boolean }) => {
    socket.io.reconnection(false);
    // Let a reply still in flight (the last evaluation) go out before closing.
    await Promise.race([queue, new Promise((r) => setTimeout(r, 2_000))]);
    socket.disconnect();
    if (outcome.refused) settleDone?.reject(new Error(`coordinator refused ${options.name}: ${outcome.reason}`));
    else settleDone?.resolve(outcome.reason);
  };

  const hello = async () => {
    try {
      modelSpec ??= specOf(await options.trainer.getWeights());
      const description = options.trainer.describe();
      clientNonce = new Uint8Array(randomBytes(NONCE_BYTES));
      runId = undefined;
      provenCoordinatorKey = undefined;
      await peer.send({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        name: options.name,
        identityKey: encodeBase64(identity.publicKey),
        nonce: encodeBase64(clientNonce),
        capabilities: { ...description, cohortVersion: COHORT_VERSION },
        modelSpec: modelSpec.map((t) => ({ name: t.name, shape: [...t.shape] })),
      });
    } catch (e) {
      // The coordinator says why (a 'refused' message) and closes the connection; log what we know.
      log.warn({ error: errorText(e) }, 'hello was not accepted');
    }
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
    switch (message.type) {
      case 'challenge': {
        const coordinatorKey = new Uint8Array(Buffer.from(message.coordinatorKey, 'base64'));
        const context: HandshakeContext = {
          runId: message.runId,
          protocolVersion: PROTOCOL_VERSION,
          clientName: options.name,
          clientKey: identity.publicKey,
          clientNonce,
          coordinatorKey,
          coordinatorNonce: new Uint8Array(Buffer.from(message.nonce, 'base64')),
        };
        const pinned = options.coordinatorKey;
        const problem =
          message.protocolVersion !== PROTOCOL_VERSION
            ? `coordinator speaks protocol ${message.protocolVersion}, this client ${PROTOCOL_VERSION}`
            : pinned && !Buffer.from(pinned).equals(Buffer.from(coordinatorKey))
              ? `the coordinator presented key ${keyFingerprint(coordinatorKey)}, not the pinned ${keyFingerprint(pinned)}`
              : !verify(coordinatorProof(context), new Uint8Array(Buffer.from(message.signature, 'base64')), coordinatorKey)
                ? 'the coordinator\'s handshake signature does not verify'
                : undefined;
        if (problem) {
          audit.append('auth-failed', { reason: problem });
          emit({ type: 'refused', reason: problem });
          log.error({ reason: problem }, 'refusing the coordinator');
          void finish({ reason: problem, refused: true });
          return;
        }
        if (seenRun !== message.runId) seenTasks.clear();
        seenRun = message.runId;
        runId = message.runId;
        provenCoordinatorKey = coordinatorKey;
        const announced = ckks.announce(message.runId);
        void peer
          .send({
            type: 'auth',
            signature: encodeBase64(sign(clientProof(context), identity.secretKey)),
            agreementKey: { publicKey: announced.publicKey, signature: announced.signature, holdsKey: announced.holdsKey },
          })
          .catch((e: unknown) => log.warn({ error: errorText(e) }, 'auth was not accepted'));
        return;
      }
      case 'welcome':
        audit.append('joined', { run: message.runId, client: message.clientId });
        emit({ type: 'welcome', runId: message.runId, clientId: message.clientId });
        log.info({ run: message.runId }, 'joined the federation');
        return;
      case 'refused':
        if (message.retryAfterMs !== undefined) {
          // A load limit, not a verdict on this client: come back later (with jitter, so a crowd spreads out).
          log.info({ reason: message.reason, retryAfterMs: message.retryAfterMs }, 'coordinator busy; retrying later');
          const delay = message.retryAfterMs * (1 + Math.random() * 0.5);
          setTimeout(() => {
            if (!stopped) socket.connect();
          }, delay).unref();
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
      case 'ckks-deal':
        warnWithoutRoster();
        void ckks
          .deal(message, runId ?? '')
          .then(({ reply, refused }) => {
            for (const r of refused) audit.append('ckks-key-box-refused', { run: runId ?? null, recipient: r.recipient, reason: r.reason });
            if (refused.length) log.warn({ refused }, 'refused to box the CKKS key for some recipients');
            return peer.send(reply);
          })
          .catch((e: unknown) => {
            audit.append('ckks-deal-refused', { run: runId ?? null, reason: errorText(e) });
            log.error({ error: errorText(e) }, 'refused to deal the CKKS key');
          });
        return;
      case 'ckks-key':
        warnWithoutRoster();
        // Acknowledged once the key is in place (or refused, with the reason): the coordinator counts on it.
        return ckks.receiveKey(message, runId ?? '').then(
          () => audit.append('ckks-key-received', { run: runId ?? null, dealer: message.dealer, epoch: message.epoch }),
          (e: unknown) => {
            audit.append('ckks-key-refused', { run: runId ?? null, dealer: message.dealer, epoch: message.epoch, reason: errorText(e) });
            log.error({ dealer: message.dealer, error: errorText(e) }, 'refused a CKKS key');
            throw e;
          },
        );
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
    screenTask(meta);
    if (meta.kind !== 'standardize' && meta.encrypted) {
      const encrypted = meta.encrypted;
      const parser = await ckks.frameParser();
      const frames: Uint8Array[] = [];
      return {
        write: (chunk) => void frames.push(...parser.push(chunk)),
        end: (trailer) => {
          checkDownload(meta, trailer);
          parser.end();
          queue = queue.then(async () => {
            try {
              const state = await ckks.decryptState(frames, encrypted, modelSpec ?? []);
              lastGlobal = state.weights;
              await (meta.kind === 'fit' ? runFit(meta, state.weights, state) : runEvaluate(meta, state.weights));
            } catch (e) {
              await reportFailure(meta.kind === 'fit' ? 'fit-failure' : 'evaluate-failure', meta.round, meta.taskId, e);
            }
          });
        },
        abort: (reason) => log.warn({ kind: meta.kind, reason }, 'incoming encrypted stream aborted'),
      };
    }
    // A SCAFFOLD fit task streams [x; c], checked against that layout as it is decoded.
    const collector = new WeightsCollector(meta.kind === 'standardize' ? undefined : meta.kind === 'fit' ? fitDownloadSpec(meta.config, modelSpec) : modelSpec);
    const decoder = new TensorStreamDecoder(collector);
    return {
      write: (chunk) => decoder.push(chunk),
      end: async (trailer) => {
        checkDownload(meta, trailer);
        decoder.end();
        const weights = collector.weights();
        if (meta.kind === 'standardize') {
          // Applied before acknowledging: the coordinator sends tasks only to clients that finished this.
          const applied = queue.then(() => applyStandardization(weights));
          queue = applied.catch(() => undefined);
          await applied;
          return;
        }
        lastGlobal = meta.kind === 'fit' ? fitDownloadModel(meta.config, weights) : weights;
        // Train after acknowledging the stream, one task at a time.
        queue = queue.then(() => (meta.kind === 'fit' ? runFit(meta, weights) : runEvaluate(meta, weights)));
      },
      abort: (reason) => log.warn({ kind: meta.kind, reason }, 'incoming stream aborted'),
    };
  });

  const sendMoments = async (taskId: string) => {
    try {
      if (!options.scaler) throw new Error('this client has no feature scaler, so it cannot take part in federated standardization');
      const m = options.scaler.moments();
      const stats = momentsWeights(m.mean, m.meanOfSquares);
      await peer.sendStream({ kind: 'statistics-result', taskId, numExamples: m.rows }, encodedByteLength(stats), encodeWeightsChunks(stats, transfer.chunkBytes), {
        sign: (sha256) => signUpload(0, taskId, 'statistics-result', { numExamples: m.rows }, sha256),
      });
    } catch (e) {
      log.error({ error: errorText(e) }, 'sending feature statistics failed');
      await peer.send({ type: 'statistics-failure', taskId, reason: errorText(e).slice(0, 4000) }).catch(() => undefined);
    }
  };

  const applyStandardization = async (weights: Weights) => {
    const mean = weights.find((t) => t.name === 'mean');
    const std = weights.find((t) => t.name === 'std');
    if (!options.scaler) throw new Error('this client has no feature scaler, so it cannot apply federated standardization');
    if (!mean || !std || mean.data.length !== std.data.length) throw new Error('standardization must carry "mean" and "std" tensors of equal length');
    await options.scaler.standardize(mean.data, std.data);
    emit({ type: 'standardized', features: mean.data.length });
  };

  const reportFailure = async (kind: 'fit-failure' | 'evaluate-failure', round: number, taskId: string, e: unknown) => {
    const reason = errorText(e);
    emit({ type: 'task-failed', round, reason });
    audit.append('task-failed', { run: runId ?? null, round, task: taskId, kind, reason });
    log.error({ round, reason }, `${kind === 'fit-failure' ? 'fit' : 'evaluate'} failed`);
    await peer.send({ type: kind, round, taskId, reason: reason.slice(0, 4000) }).catch(() => undefined);
  };

  const ckks = new CkksMember(options.name, identity, policy.roster);
  let rosterWarned = false;
  const warnWithoutRoster = () => {
    if (policy.roster || rosterWarned) return;
    rosterWarned = true;
    log.warn('no federation roster pinned (security.roster): the coordinator decides who deals and who receives the CKKS key');
  };

  /** Refuses a task outside this node's security policy: audited here, and the coordinator is told why. */
  const refuseTask = (kind: string, round: number, taskId: string, reason: string) => {
    audit.append('task-refused', { run: runId ?? null, round, task: taskId, kind, reason });
    emit({ type: 'task-failed', round, reason });
    log.error({ round, kind, reason }, 'refused a task');
  };

  /** Before a download is accepted: no replay, and a task this node's policy allows. Throws the refusal. */
  const screenTask = (meta: StreamMetaOf<'fit' | 'evaluate' | 'standardize'>) => {
    const round = meta.kind === 'standardize' ? 0 : meta.round;
    const refusal = seenTasks.has(meta.taskId)
      ? `task ${meta.taskId} was already received in this run (a replay)`
      : meta.kind === 'fit'
        ? fitTaskRefusal(policy, fitTaskTerms(meta.config.extra), options.localPrivacy)
        : meta.kind === 'evaluate'
          ? evaluateTaskRefusal(policy, meta.encrypted !== undefined)
          : undefined;
    if (refusal) {
      refuseTask(meta.kind, round, meta.taskId, refusal);
      throw new Error(refusal);
    }
    seenTasks.add(meta.taskId);
  };

  /** A download counts only with the coordinator's signature over its header and bytes (see downloadSignature.ts). */
  const checkDownload = (meta: StreamMeta, trailer: StreamTrailer) => {
    if (!runId || !provenCoordinatorKey) throw new Error('a task arrived before the handshake completed');
    if (!verifyDownload({ runId, client: options.name, meta, payloadHash: trailer.sha256 }, trailer.signature, provenCoordinatorKey)) {
      const reason = `the ${meta.kind} download is not signed by the coordinator's key for this client and run`;
      audit.append('download-refused', { run: runId, kind: meta.kind, task: meta.taskId, reason });
      log.error({ kind: meta.kind }, reason);
      throw new Error(reason);
    }
  };
  const scaffold = new ScaffoldMember();
  let lastGlobal: Weights | undefined;
  let stopped = false;
  /** Clips to the experiment's norm (central DP) and applies this node's own local DP, if configured. */
  const privatize = (round: number, delta: Weights, clipNorm: number | string | boolean | undefined): Weights => {
    const clipped = typeof clipNorm === 'number' ? clipToNorm(delta, clipNorm).weights : delta;
    return releaseLocally(round, clipped);
  };
  /** This node's local DP release of an update (its own clip and noise), or the update as it is without one. */
  const releaseLocally = (round: number, delta: Weights): Weights => {
    if (!localPrivacy || !options.localPrivacy) return delta;
    const { update, epsilon } = localPrivacy.release(delta);
    emit({ type: 'local-privacy', round, epsilon, delta: options.localPrivacy.delta });
    return update;
  };

  /** Signs (run, round, task, this client, claims, payload hash) and records what left this site. */
  const signUpload = (round: number, taskId: string, kind: string, claims: Readonly<Record<string, number>>, sha256: string): string => {
    if (!runId) throw new Error('not authenticated to a run');
    const claimsText = canonicalClaims(claims);
    const signature = encodeBase64(sign(uploadTranscript({ runId, round, taskId, client: options.name, kind, claims: claimsText, payloadHash: sha256 }), identity.secretKey));
    audit.append('upload-sent', { run: runId, round, task: taskId, kind, claims: claimsText, sha256, signature });
    return signature;
  };

  /** `state`: under CKKS, what the encrypted global packed beside the model (momentum, clip norm). */
  const runFit = async (meta: StreamMetaOf<'fit'>, global: Weights, state: EncryptedRoundState = { weights: global }) => {
    try {
      // A SCAFFOLD task downloaded [x; c]: it trains from x with c - c_i and uploads [delta_y; delta_c].
      const scaffoldRound = isScaffoldTask(meta.config) ? scaffold.begin(global, meta.config, { runId: runId ?? '', localPrivacy: localPrivacy !== undefined }) : undefined;
      await options.trainer.setWeights(scaffoldRound?.global ?? global);
      const trainStarted = performance.now();
      const trained = await (scaffoldRound ? scaffoldRound.fit(options.trainer, meta.config) : options.trainer.fit(meta.config));
      // Training time travels with the metrics so the coordinator can split a round's time.
      const outcome = { ...trained, metrics: { ...trained.metrics, trainSeconds: (performance.now() - trainStarted) / 1000 } };
      const encrypted = readEncryptedInstructions(meta.config.extra);
      if (encrypted) {
        // Secure aggregation: this client's part of the next state goes up encrypted and weighted; the
        // coordinator only adds ciphertexts. Clipping, the DP noise share and the strategy's step happen here.
        const clipRefusal = clipNormRefusal(policy, state.clipNorm);
        if (clipRefusal) {
          refuseTask('fit', meta.round, meta.taskId, clipRefusal);
          throw new Error(clipRefusal);
        }
        const trainedWeights = await options.trainer.getWeights();
        // This node's own local DP applies in every mode: the encrypted contribution starts from its release.
        const released = localPrivacy ? addWeights(global, releaseLocally(meta.round, subtractWeights(trainedWeights, global))) : trainedWeights;
        const contribution = encryptedContribution(state, released, encrypted);
        const upload = ckks.encryptVector(contribution.vector, encrypted.weight, transfer.chunkBytes);
        if (upload.clipped > 0) log.warn({ round: meta.round, clipped: upload.clipped }, 'values beyond the CKKS headroom were clipped');
        const metrics = {
          ...outcome.metrics,
          ...(upload.clipped > 0 ? { ckksClipped: upload.clipped } : {}),
          ...(contribution.clipNorm !== undefined ? { clipNorm: contribution.clipNorm } : {}),
        };
        await peer.sendStream({ kind: 'fit-result', round: meta.round, taskId: meta.taskId, numExamples: outcome.numExamples, metrics, encrypted: true }, upload.totalBytes, upload.chunks, {
          sign: (sha256) => signUpload(meta.round, meta.taskId, 'fit-result', { numExamples: outcome.numExamples, ...metrics }, sha256),
        });
        emit({ type: 'fit', round: meta.round, numExamples: outcome.numExamples, metrics });
        return;
      }
      const local = await options.trainer.getWeights();
      const delta = scaffoldRound ? scaffoldRound.upload(local) : privatize(meta.round, subtractWeights(local, global), meta.config.extra?.clipNorm);
      await peer.sendStream(
        { kind: 'fit-result', round: meta.round, taskId: meta.taskId, numExamples: outcome.numExamples, metrics: outcome.metrics },
        encodedByteLength(delta),
        encodeWeightsChunks(delta, transfer.chunkBytes),
        { sign: (sha256) => signUpload(meta.round, meta.taskId, 'fit-result', { numExamples: outcome.numExamples, ...outcome.metrics }, sha256) },
      );
      scaffoldRound?.commit();
      emit({ type: 'fit', round: meta.round, numExamples: outcome.numExamples, metrics: outcome.metrics });
    } catch (e) {
      await reportFailure('fit-failure', meta.round, meta.taskId, e);
    }
  };

  const runEvaluate = async (meta: StreamMetaOf<'evaluate'>, global: Weights) => {
    try {
      await options.trainer.setWeights(global);
      const outcome = await options.trainer.evaluate(meta.config);
      const signature = signUpload(meta.round, meta.taskId, 'evaluate-result', { numExamples: outcome.numExamples, loss: outcome.loss, ...outcome.metrics }, '');
      await peer.send({ type: 'evaluate-result', round: meta.round, taskId: meta.taskId, numExamples: outcome.numExamples, loss: outcome.loss, metrics: outcome.metrics, signature });
      emit({ type: 'evaluate', round: meta.round, loss: outcome.loss, metrics: outcome.metrics });
    } catch (e) {
      await reportFailure('evaluate-failure', meta.round, meta.taskId, e);
    }
  };

  return {
    done,
    globalWeights: () => lastGlobal,
    stop: async () => {
      stopped = true;
      socket.io.reconnection(false);
      socket.disconnect();
      settleDone?.resolve('stopped');
    },
  };
}
