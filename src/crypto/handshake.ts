import { transcript } from './transcript.js';

/**
 * The mutual challenge-response of a connection (the README's "Security: identities, access, TLS, audit"):
 *   client -> hello(name, client key, client nonce, protocol version)
 *   coordinator -> challenge(run, coordinator key, coordinator nonce, sig_coordinator(coordinatorProof))
 *   client -> auth(sig_client(clientProof))
 * Each side signs both fresh nonces, the run, the protocol version and both keys, so a signature can be
 * neither replayed into another connection or run nor reflected back to its signer.
 */
export interface HandshakeContext {
  readonly runId: string;
  readonly protocolVersion: number;
  readonly clientName: string;
  readonly clientKey: Uint8Array;
  readonly clientNonce: Uint8Array;
  readonly coordinatorKey: Uint8Array;
  readonly coordinatorNonce: Uint8Array;
}

const fields = (c: HandshakeContext) => [c.runId, c.protocolVersion, c.clientName, c.clientKey, c.clientNonce, c.coordinatorKey, c.coordinatorNonce];

export function coordinatorProof(c: HandshakeContext): Uint8Array {
  return transcript('cohort-handshake-coordinator-v1', fields(c));
}

export function clientProof(c: HandshakeContext): Uint8Array {
  return transcript('cohort-handshake-client-v1', fields(c));
}

export const NONCE_BYTES = 32;

/** What a signed upload commits to: the run, the round and task, the sender, what it claims, and the bytes. */
export interface UploadClaim {
  readonly runId: string;
  readonly round: number;
  readonly taskId: string;
  readonly client: string;
  readonly kind: string;
  /** Canonical text of the upload's small claims (example counts, metrics). */
  readonly claims: string;
  /** SHA-256 of the payload (hex). */
  readonly payloadHash: string;
}

export function uploadTranscript(u: UploadClaim): Uint8Array {
  return transcript('cohort-upload-v1', [u.runId, u.round, u.taskId, u.client, u.kind, u.claims, u.payloadHash]);
}

/** Deterministic text of a flat record of numbers (metrics, counts): sorted keys, shortest round-trip numbers. */
export function canonicalClaims(record: Readonly<Record<string, number | string>>): string {
  return JSON.stringify(Object.keys(record).sort().map((k) => [k, record[k]]));
}
