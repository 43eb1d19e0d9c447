import { auditSignedMessage } from './auditEntry.js';
import { sign, verify } from './identity.js';
import { transcript } from './transcript.js';

/**
 * Audit anchoring: after each round the coordinator shows the clients that took part the head of its audit
 * chain (the hash of the round's `round-completed` entry, with the audit signature it already carries). Each
 * client checks that signature under the coordinator key it authenticated, countersigns (run, round, seq,
 * hash) with its own identity key and keeps the head in its own audit log. The coordinator holds its signing
 * key, so it alone could cut entries off the end of its log or rewrite them; a head kept outside its reach
 * catches both (`cohort audit verify --head`).
 */
export interface AuditHead {
  readonly runId: string;
  readonly round: number;
  /** Seq of the anchored entry in the coordinator's log. */
  readonly seq: number;
  /** Hex SHA-256 of that entry (its `hash` field). */
  readonly hash: string;
}

export const AUDIT_HEAD_LABEL = 'cohort-audit-head-v1';

function headTranscript(head: AuditHead): Uint8Array {
  return transcript(AUDIT_HEAD_LABEL, [head.runId, head.round, head.seq, new Uint8Array(Buffer.from(head.hash, 'hex'))]);
}

/** The client's countersignature of a head (base64 Ed25519), with its identity key. */
export function countersignAuditHead(head: AuditHead, secretKey: Uint8Array): string {
  return Buffer.from(sign(headTranscript(head), secretKey)).toString('base64');
}

/** True when `signature` (base64) is `publicKey`'s countersignature of exactly this head. */
export function verifyAuditHeadCountersignature(head: AuditHead, signature: string, publicKey: Uint8Array): boolean {
  return verify(headTranscript(head), new Uint8Array(Buffer.from(signature, 'base64')), publicKey);
}

/** True when `signature` (base64) is the coordinator's audit-log signature of the entry with this hash. */
export function verifyCoordinatorHead(hash: string, signature: string, coordinatorKey: Uint8Array): boolean {
  return /^[0-9a-f]{64}$/.test(hash) && verify(auditSignedMessage(hash), new Uint8Array(Buffer.from(signature, 'base64')), coordinatorKey);
}
