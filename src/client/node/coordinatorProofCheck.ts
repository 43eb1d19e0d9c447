import { coordinatorProof, type HandshakeContext } from '../../crypto/handshake.js';
import { keyFingerprint, verify } from '../../crypto/identity.js';
import type { MessageOf } from '../../protocol/messages.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';

/**
 * Why this node refuses the coordinator's challenge (another protocol, a key other than the pinned one, a
 * signature that does not verify over both nonces), or undefined when it proves the key it presents.
 */
export function challengeProblem(message: MessageOf<'challenge'>, context: HandshakeContext, pinned: Uint8Array | undefined): string | undefined {
  const key = context.coordinatorKey;
  if (message.protocolVersion !== PROTOCOL_VERSION) return `coordinator speaks protocol ${message.protocolVersion}, this client ${PROTOCOL_VERSION}`;
  if (pinned && !Buffer.from(pinned).equals(Buffer.from(key))) return `the coordinator presented key ${keyFingerprint(key)}, not the pinned ${keyFingerprint(pinned)}`;
  if (!verify(coordinatorProof(context), new Uint8Array(Buffer.from(message.signature, 'base64')), key)) return "the coordinator's handshake signature does not verify";
  return undefined;
}
