import { transcript } from './transcript.js';
import { createHash } from 'node:crypto';
import { canonicalJson, isPlainObject, type JsonObject } from './canonicalJson.js';
import type { AuditSigner, AuditVerify } from './auditSigner.js';

/**
 * One audit log entry, stored as one line of canonical JSON (RFC 8785 key order, no whitespace).
 *
 * - `hash` is the hex SHA-256 of the canonical JSON of the six body fields (seq, time, type, data, prev, signer).
 * - `prev` is the previous entry's `hash` (64 zeros for seq 0), so each entry commits to all before it.
 * - `sig` is the base64 Ed25519 signature over the bytes `auditSignedMessage(hash)`: the label
 *   'cohort-audit-entry-v1' and the 32 raw hash bytes, each preceded by its length as a big-endian u32.
 *   This is the framing of src/crypto/transcript.ts, so an audit signature can never be replayed as a
 *   handshake or upload signature made with the same identity key, nor the other way round.
 */
export interface AuditEntryBody {
  /** 0, 1, 2, ... in file order. */
  readonly seq: number;
  /** ISO 8601 (UTC) time of the append, as the writer's clock had it. */
  readonly time: string;
  /** What happened: 'client-connected', 'auth-failed', 'round-participation', 'model-version', ... */
  readonly type: string;
  readonly data: JsonObject;
  /** Hex SHA-256 of the previous entry, or AUDIT_GENESIS_PREV. */
  readonly prev: string;
  /** Base64 of the 32-byte Ed25519 public key that signed this entry. */
  readonly signer: string;
}

/** One signed, chained entry of an audit log, as written. */
export interface AuditEntry extends AuditEntryBody {
  /** Hex SHA-256 of the entry's body (which holds the previous entry's hash). */
  readonly hash: string;
  /** Base64 Ed25519 signature of `hash` by the log's signer. */
  readonly sig: string;
}

export const AUDIT_GENESIS_PREV = '0'.repeat(64);
export const AUDIT_SIGNATURE_LABEL = 'cohort-audit-entry-v1';

const FIELDS = ['seq', 'time', 'type', 'data', 'prev', 'signer', 'hash', 'sig'] as const;
const HEX_256 = /^[0-9a-f]{64}$/;

export function auditEntryHash(body: AuditEntryBody): string {
  const { seq, time, type, data, prev, signer } = body;
  return createHash('sha256').update(canonicalJson({ seq, time, type, data, prev, signer }), 'utf8').digest('hex');
}

export function auditSignedMessage(hash: string): Uint8Array {
  return transcript(AUDIT_SIGNATURE_LABEL, [new Uint8Array(Buffer.from(hash, 'hex'))]);
}

export function signAuditEntry(body: AuditEntryBody, signer: AuditSigner): AuditEntry {
  const hash = auditEntryHash(body);
  const sig = Buffer.from(signer.sign(auditSignedMessage(hash))).toString('base64');
  const { seq, time, type, data, prev } = body;
  return { seq, time, type, data, prev, signer: body.signer, hash, sig };
}

/** The entry's line in the file, without the newline. */
export function serializeAuditEntry(entry: AuditEntry): string {
  const { seq, time, type, data, prev, signer, hash, sig } = entry;
  return canonicalJson({ seq, time, type, data, prev, signer, hash, sig });
}

/** Whether the content matches its hash, and the hash its signature under the key the entry names. */
export function checkAuditEntry(entry: AuditEntry, verify: AuditVerify): { hashOk: boolean; sigOk: boolean } {
  const hashOk = auditEntryHash(entry) === entry.hash;
  const sigOk = verify(auditSignedMessage(entry.hash), decodeBase64(entry.sig), decodeBase64(entry.signer));
  return { hashOk, sigOk };
}

/** Parses and shape-checks one line; `error` says what is wrong in words. Hash and signature are not checked here. */
export function parseAuditEntry(line: string): { entry: AuditEntry } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { error: `not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!isPlainObject(value)) return { error: 'not a JSON object' };
  const extra = Object.keys(value).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) return { error: `unexpected field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}` };
  const missing = FIELDS.filter((k) => !(k in value));
  if (missing.length > 0) return { error: `missing field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
  const { seq, time, type, data, prev, signer, hash, sig } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return { error: 'seq is not a non-negative integer' };
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) return { error: 'time is not an ISO 8601 time' };
  if (typeof type !== 'string' || type.length === 0) return { error: 'type is not a non-empty string' };
  if (!isPlainObject(data)) return { error: 'data is not a JSON object' };
  if (typeof prev !== 'string' || !HEX_256.test(prev)) return { error: 'prev is not 64 lowercase hex digits' };
  if (typeof hash !== 'string' || !HEX_256.test(hash)) return { error: 'hash is not 64 lowercase hex digits' };
  if (!isCanonicalBase64(signer, 32)) return { error: 'signer is not a base64 32-byte public key' };
  if (!isCanonicalBase64(sig, 64)) return { error: 'sig is not a base64 64-byte signature' };
  const entry: AuditEntry = { seq, time, type, data: data as JsonObject, prev, signer, hash, sig };
  try {
    // JSON.parse can produce values canonical JSON refuses (1e999 becomes Infinity, lone surrogates).
    serializeAuditEntry(entry);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  return { entry };
}

export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/**
 * Node's base64 decoder skips invalid characters and ignores padding bits, so several strings decode to the
 * same bytes; `sig` is outside the hash, so only the one canonical spelling is accepted.
 */
function isCanonicalBase64(value: unknown, bytes: number): value is string {
  if (typeof value !== 'string') return false;
  const decoded = Buffer.from(value, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === value;
}
