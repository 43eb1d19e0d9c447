import { auditKeyFingerprint } from '../crypto/auditSigner.js';
import { formatAuditProblem, verifyAuditLog } from '../crypto/verifyAuditLog.js';

export interface AuditVerifyCliOptions {
  /** Base64 of the 32-byte Ed25519 public key the log must be signed by (`--key`). */
  readonly publicKey?: string;
}

/**
 * `cohort audit verify <log> [--key <base64>]`: prints one summary line for an intact log, or one line per
 * problem, and returns the exit code: 0 intact, 1 tampered, unreadable or a bad key.
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
  let result;
  try {
    result = verifyAuditLog(path, publicKey ? { publicKey } : {});
  } catch (e) {
    print(`error: cannot read audit log ${path}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  if (result.ok) {
    const signer = result.signer
      ? `signer ${auditKeyFingerprint(result.signer)} (${Buffer.from(result.signer).toString('base64')})${publicKey ? ', as pinned' : ', not pinned (pass --key to require it)'}`
      : 'no signer yet';
    print(`audit log ok: ${result.entries.toLocaleString('en-US')} ${result.entries === 1 ? 'entry' : 'entries'}, ${signer}, last hash ${result.lastHash}`);
    return 0;
  }
  const count = result.problems.length;
  print(`audit log ${path} FAILED verification: ${count} problem${count === 1 ? '' : 's'}`);
  for (const problem of result.problems) print(formatAuditProblem(problem));
  return 1;
}
