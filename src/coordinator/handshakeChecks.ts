import { randomBytes } from 'node:crypto';
import { coordinatorProof, NONCE_BYTES, type HandshakeContext } from '../crypto/handshake.js';
import { sign } from '../crypto/identity.js';
import { encodeBase64 } from '../crypto/keyEncoding.js';
import type { MessageOf } from '../protocol/messages.js';
import type { Peer } from '../protocol/peer.js';
import { specMismatch } from '../protocol/tensors.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import type { AllowedPeer } from './accessList.js';
import type { ServerOptions } from './server.js';

/** Ends the handshake with `reason` told to the node (`client`: the name it gave, for the audit); never returns. */
export type Refuse = (reason: string, client?: string) => never;

/** A node that passed the hello checks and was sent a challenge: what its auth must prove. */
export interface ChallengedNode {
  readonly context: HandshakeContext;
  readonly hello: MessageOf<'hello'>;
  readonly peer: AllowedPeer;
}

export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** The handshake's checks on what a node announces in hello (version, access, schema, model), and the challenge. */
export class HandshakeChecks {
  constructor(private readonly options: Pick<ServerOptions, 'runId' | 'spec' | 'schema' | 'identity' | 'access' | 'report'>) {}

  /** Checks a node's hello and sends it the signed challenge; `refuse` ends a node that fails a check. */
  challenge(peer: Peer, hello: MessageOf<'hello'>, refuse: Refuse): ChallengedNode {
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      refuse(`protocol version ${hello.protocolVersion} is not supported: this coordinator speaks version ${PROTOCOL_VERSION}; upgrade the older side`, hello.name);
    }
    const clientKey = decodeBase64(hello.identityKey);
    const decision = this.options.access.decide(hello.name, clientKey);
    if (!decision.ok) refuse(decision.reason, hello.name);
    const allowed = (decision as { ok: true; peer: AllowedPeer }).peer;
    // Checked before the model: a site with one column too many is told so in columns, not in tensor shapes.
    const schemaProblem = allowed.role === 'client' ? this.options.schema?.problem(hello.name, hello.capabilities.dataSchema) : undefined;
    if (schemaProblem) this.refuseSchema(hello.name, schemaProblem, refuse);
    const mismatch = allowed.role === 'client' ? specMismatch(this.options.spec, hello.modelSpec) : undefined;
    if (mismatch) refuse(`the client's model does not match the federation's: ${mismatch}`, hello.name);
    const context: HandshakeContext = {
      runId: this.options.runId,
      protocolVersion: PROTOCOL_VERSION,
      clientName: hello.name,
      clientKey,
      clientNonce: decodeBase64(hello.nonce),
      coordinatorKey: this.options.identity.publicKey,
      coordinatorNonce: new Uint8Array(randomBytes(NONCE_BYTES)),
    };
    peer.notify({
      type: 'challenge',
      protocolVersion: PROTOCOL_VERSION,
      runId: this.options.runId,
      coordinatorKey: encodeBase64(context.coordinatorKey),
      nonce: encodeBase64(context.coordinatorNonce),
      signature: encodeBase64(sign(coordinatorProof(context), this.options.identity.secretKey)),
    });
    return { context, hello, peer: allowed };
  }

  /** An authenticated site's schema: refused if it differs, adopted as the study's if there is none yet. */
  admitSchema(hello: MessageOf<'hello'>, refuse: Refuse): void {
    const verdict = this.options.schema?.admit(hello.name, hello.capabilities.dataSchema);
    if (verdict?.refusal) this.refuseSchema(hello.name, verdict.refusal, refuse);
    if (verdict?.adopted) this.options.report('schema-adopted', { client: hello.name, schema: hello.capabilities.dataSchema! });
  }

  private refuseSchema(client: string, reason: string, refuse: Refuse): never {
    this.options.report('schema-refused', { client, reason });
    return refuse(reason, client);
  }
}
