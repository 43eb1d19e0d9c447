import { auditEntryHash, checkAuditEntry, parseAuditEntry, serializeAuditEntry, type AuditEntry } from './auditEntry.js';
import type { AuditVerify } from './auditSigner.js';

/** One line of an audit log file, parsed and checked on its own (no chain context). */
export type AuditLine =
  | {
      readonly kind: 'entry';
      /** 1-based line number in the file. */
      readonly line: number;
      readonly entry: AuditEntry;
      /** SHA-256 of the entry's content as it is now. */
      readonly contentHash: string;
      readonly hashOk: boolean;
      /** The signature verifies under the key the entry itself names (not necessarily the log's key). */
      readonly sigOk: boolean;
      /** The line is byte for byte the canonical serialization (not reformatted). */
      readonly canonical: boolean;
      /** The last line of a file that does not end in a newline. */
      readonly unterminated: boolean;
    }
  | { readonly kind: 'malformed'; readonly line: number; readonly error: string; readonly unterminated: boolean };

/**
 * Splits a JSON Lines file into checked lines. Every line ends with '\n'; a last line without one is kept
 * and flagged, because an append interrupted by a crash leaves exactly that.
 */
export function readAuditLines(text: string, verify: AuditVerify): AuditLine[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  const terminated = lines[lines.length - 1] === '';
  if (terminated) lines.pop();
  return lines.map((raw, i) => {
    const line = i + 1;
    const unterminated = !terminated && i === lines.length - 1;
    if (raw.length === 0) return { kind: 'malformed', line, error: 'empty line', unterminated };
    const parsed = parseAuditEntry(raw);
    if ('error' in parsed) return { kind: 'malformed', line, error: parsed.error, unterminated };
    const { entry } = parsed;
    const { hashOk, sigOk } = checkAuditEntry(entry, verify);
    const contentHash = hashOk ? entry.hash : auditEntryHash(entry);
    return { kind: 'entry', line, entry, contentHash, hashOk, sigOk, canonical: serializeAuditEntry(entry) === raw, unterminated };
  });
}
