import { readFileSync } from 'node:fs';
import { auditKeyFingerprint } from '../crypto/auditSigner.js';
import { checkKnownHeads, readKnownHeads, type KnownHead } from '../crypto/auditHeads.js';
import { formatAuditProblem, verifyAuditText } from '../crypto/verifyAuditLog.js';

export interface AuditVerifyCliOptions {
  /** Base64 of the 32-byte Ed25519 public key the log must be signed by (`--key`). */
  readonly publicKey?: string;
  /** A head known from elsewhere (`--head`): a 64-hex hash, a file with one, or a client's audit log. */
  readonly head?: string;
}

/**
 * `cohort audit verify <log> [--key <base64>] [--head <hash|file>]`: prints one summary line for an intact
 * log, or one line per problem, and returns the exit code: 0 intact, 1 tampered, unreadable or a bad key.
 * Without --head, entries cut off the end cannot be seen; with it, the log must contain every known head.
 */
export function runAuditVerify(path: string, options: AuditVerifyCliOptions, print: (line: string) => void): number {
  let publicKey: Uint8Array | undefined;
  if (options.publicKey !== undefined) {
    const bytes = Buffer.from(options.publicKey, 'base64');
    if (bytes.length !== 32 || bytes.toString('base64') !== options.publicKey) {
      print(`error: --key must be a base64 Ed25519 public key (32 bytes, 44 characters), got ${JSON.stringify(options.publicKey)}`);
      return 1;
    }
    publicKey = new Uint8Array(bytes);
  }
  let heads: KnownHead[] = [];
  if (options.head !== undefined) {
    try {
      heads = readKnownHeads(options.head);
    } catch (e) {
      print(`error: --head: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    print(`error: cannot read audit log ${path}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const result = verifyAuditText(text, publicKey ? { publicKey } : {});
  if (!result.ok) {
    const count = result.problems.length;
    print(`audit log ${path} FAILED verification: ${count} problem${count === 1 ? '' : 's'}`);
    for (const problem of result.problems) print(formatAuditProblem(problem));
    return 1;
  }
  const headProblems = checkKnownHeads(text, result.signer, heads);
  if (headProblems.length > 0) {
    print(`audit log ${path} FAILED verification against known heads: ${headProblems.length} of ${heads.length} head${heads.length === 1 ? '' : 's'} not in the log (its chain alone verifies)`);
    for (const problem of headProblems) print(problem);
    return 1;
  }
  const signer = result.signer
    ? `signer ${auditKeyFingerprint(result.signer)} (${Buffer.from(result.signer).toString('base64')})${publicKey ? ', as pinned' : ', not pinned (pass --key to require it)'}`
    : 'no signer yet';
  const anchored = heads.length > 0 ? `; contains all ${heads.length} known head${heads.length === 1 ? '' : 's'}` : '';
  print(`audit log ok: ${result.entries.toLocaleString('en-US')} ${result.entries === 1 ? 'entry' : 'entries'}, ${signer}, last hash ${result.lastHash}${anchored}`);
  return 0;
}
