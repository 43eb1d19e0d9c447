import { readFileSync } from 'node:fs';
import { findAuditProblems, type AuditProblem } from './auditChain.js';
import { AUDIT_GENESIS_PREV, decodeBase64, encodeBase64 } from './auditEntry.js';
import { readAuditLines, type AuditLine } from './auditLines.js';
import { auditKeyFingerprint, ed25519Verify, type AuditVerify } from './auditSigner.js';

export { formatAuditProblem, type AuditProblem, type AuditProblemKind } from './auditChain.js';

/** What verifying an audit log checks against. */
export interface AuditVerifyOptions {
  /**
   * The key the log must be signed by. Without it the log's signer is the key that signed most entries, so a
   * log rewritten end to end under a forger's own key verifies: pin the key to catch that.
   */
  readonly publicKey?: Uint8Array;
  /** Ed25519 verification; node:crypto by default. */
  readonly verify?: AuditVerify;
}

/** A verified log (entries, last hash, signer) or every problem found. */
export type AuditVerifyResult =
  | {
      readonly ok: true;
      readonly entries: number;
      /** Hash of the last entry (64 zeros for an empty log): keep it elsewhere to detect entries cut off the end. */
      readonly lastHash: string;
      /** The key that signed every entry; null for an empty log. */
      readonly signer: Uint8Array | null;
    }
  | { readonly ok: false; readonly problems: readonly AuditProblem[] };

/** Verifies the log file at `path`. Throws only when the file cannot be read. */
export function verifyAuditLog(path: string, options: AuditVerifyOptions = {}): AuditVerifyResult {
  return verifyAuditText(readFileSync(path, 'utf8'), options);
}

/** Verifies the text of a log file; every line is checked and every problem found is reported, in line order. */
export function verifyAuditText(text: string, options: AuditVerifyOptions = {}): AuditVerifyResult {
  const lines = readAuditLines(text, options.verify ?? ed25519Verify);
  const pinnedKey = options.publicKey;
  if (pinnedKey && pinnedKey.length !== 32) throw new RangeError(`audit log signer key: expected 32 bytes, got ${pinnedKey.length}`);
  const pinned = pinnedKey ? encodeBase64(pinnedKey) : undefined;
  const signers = validSigners(lines);
  const first = lines.find((l) => l.kind === 'entry');
  if (pinnedKey && pinned !== undefined && first && signers.length > 0 && !signers.includes(pinned)) {
    // Not one entry is the pinned key's: one clear line instead of one per entry.
    const others = signers.map((s) => auditKeyFingerprint(decodeBase64(s))).join(', ');
    return {
      ok: false,
      problems: [{
        line: first.line,
        seq: first.entry.seq,
        kind: 'wrong-signer',
        message: `no entry is signed by the expected key ${auditKeyFingerprint(pinnedKey)}; the log is signed by ${others}`,
      }],
    };
  }
  const signer = pinned ?? signers[0] ?? null;
  const problems = findAuditProblems(lines, signer);
  if (problems.length > 0) return { ok: false, problems };
  const last = lines.at(-1);
  return {
    ok: true,
    entries: lines.length,
    lastHash: last?.kind === 'entry' ? last.entry.hash : AUDIT_GENESIS_PREV,
    signer: signer === null ? null : decodeBase64(signer),
  };
}

/** Keys with at least one entry that verifies under them, most entries first (ties: the earliest first). */
function validSigners(lines: readonly AuditLine[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) {
    if (l.kind === 'entry' && l.hashOk && l.sigOk) counts.set(l.entry.signer, (counts.get(l.entry.signer) ?? 0) + 1);
  }
  // Map keeps insertion order and sort is stable, so equal counts stay in order of first appearance.
  return [...counts].sort((a, b) => b[1] - a[1]).map(([key]) => key);
}
