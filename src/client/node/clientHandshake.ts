import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { clientProof, NONCE_BYTES, type HandshakeContext } from '../../crypto/handshake.js';
import { sign, type Identity } from '../../crypto/identity.js';
import { encodeBase64 } from '../../crypto/keyEncoding.js';
import type { ClientMode } from '../../modes/clientMode.js';
import type { Message } from '../../protocol/messages.js';
import { TransferError, type Peer } from '../../protocol/peer.js';
import { specOf, type TensorSpec } from '../../protocol/tensors.js';
import { COHORT_VERSION, PROTOCOL_VERSION } from '../../protocol/version.js';
import type { ClientEvent, ClientOptions } from '../clientOptions.js';
import type { AuditAnchor } from './auditAnchor.js';
import { challengeProblem } from './coordinatorProofCheck.js';
import type { DownloadGuard } from './downloadGuard.js';

export interface ClientHandshakeParts {
  readonly options: ClientOptions;
  readonly identity: Identity;
  readonly peer: Peer;
  readonly modes: readonly ClientMode[];
  readonly guard: DownloadGuard;
  readonly anchor: AuditAnchor;
  readonly audit: { append(type: string, data: Readonly<Record<string, unknown>>): void };
  readonly emit: (event: ClientEvent) => void;
  readonly log: Logger;
  /** The coordinator refused this node for good (a hello it can never accept): the node ends. */
  readonly refusedForGood: (reason: string) => void;
  /** This node refuses the coordinator (its proof does not check): the node ends, refused. */
  readonly refuseCoordinator: (reason: string) => void;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A client node's half of the handshake, once per connection: hello (name, identity key, a fresh nonce,
 * capabilities, the model's spec), then the answer to the coordinator's challenge once its proof checks against
 * the pinned key. Holds what the handshake settled: the run this connection authenticated into and the model spec.
 */
export class ClientHandshake {
  /** The model's tensor spec, read from the trainer before the first hello. */
  modelSpec: TensorSpec[] | undefined;
  /** The run this connection authenticated into; uploads are signed for it. */
  runId: string | undefined;
  private clientNonce = new Uint8Array(0);
  /** Counts connections: a hello prepared for one that closed meanwhile is not sent on the next. */
  private connection = 0;

  constructor(private readonly parts: ClientHandshakeParts) {}

  /** A new connection opened: the hellos prepared for earlier ones are stale from here on. */
  connected(): void {
    this.connection++;
  }

  async hello(): Promise<void> {
    const { options, peer, modes, guard, identity, log } = this.parts;
    const forConnection = this.connection;
    try {
      if (!this.modelSpec) {
        const spec = specOf(await options.trainer.getWeights());
        // The next connection's own hello follows; this one, with its nonce, would get this node refused.
        if (forConnection !== this.connection) return;
        this.modelSpec = spec;
        // Nothing the coordinator may send is larger than the largest download a mode reads for this model
        // (64 KiB of room for headers), unless the caller set its own limit.
        if (options.transfer?.maxTransferBytes === undefined) peer.limitTransfers(Math.max(...modes.map((m) => m.maxDownloadBytes(spec))) + 64 * 1024);
      }
      this.clientNonce = new Uint8Array(randomBytes(NONCE_BYTES));
      this.runId = undefined;
      guard.disconnected();
      await peer.send({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        name: options.name,
        identityKey: encodeBase64(identity.publicKey),
        nonce: encodeBase64(this.clientNonce),
        capabilities: { ...options.trainer.describe(), cohortVersion: COHORT_VERSION, ...(options.dataSchema ? { dataSchema: options.dataSchema } : {}) },
        modelSpec: this.modelSpec.map((t) => ({ name: t.name, shape: [...t.shape] })),
      });
    } catch (e) {
      // A hello the coordinator refused outright (its schema: a claim beyond the protocol's bounds) would be
      // refused again on every retry: that is for good. Otherwise the coordinator says why (a 'refused'
      // message) and closes the connection, or the connection was lost: log what we know.
      if (e instanceof TransferError && e.message.startsWith('peer refused hello')) return this.parts.refusedForGood(e.message);
      log.warn({ error: errorText(e) }, 'hello was not accepted');
    }
  }

  answerChallenge(message: Extract<Message, { type: 'challenge' }>): void {
    const { options, peer, modes, guard, anchor, identity, audit, emit, log } = this.parts;
    const context: HandshakeContext = {
      runId: message.runId,
      protocolVersion: PROTOCOL_VERSION,
      clientName: options.name,
      clientKey: identity.publicKey,
      clientNonce: this.clientNonce,
      coordinatorKey: new Uint8Array(Buffer.from(message.coordinatorKey, 'base64')),
      coordinatorNonce: new Uint8Array(Buffer.from(message.nonce, 'base64')),
    };
    const problem = challengeProblem(message, context, options.coordinatorKey);
    if (problem) {
      audit.append('auth-failed', { reason: problem });
      emit({ type: 'refused', reason: problem });
      log.error({ reason: problem }, 'refusing the coordinator');
      this.parts.refuseCoordinator(problem);
      return;
    }
    this.runId = message.runId;
    guard.authenticated(message.runId, context.coordinatorKey);
    anchor.authenticated(message.runId, context.coordinatorKey);
    const announced = modes.map((m) => m.announce?.(message.runId)).find((a) => a !== undefined);
    void peer
      .send({
        type: 'auth',
        signature: encodeBase64(sign(clientProof(context), identity.secretKey)),
        ...(announced ? { agreementKey: { publicKey: announced.publicKey, signature: announced.signature, holdsKey: announced.holdsKey } } : {}),
      })
      .catch((e: unknown) => log.warn({ error: errorText(e) }, 'auth was not accepted'));
  }
}
