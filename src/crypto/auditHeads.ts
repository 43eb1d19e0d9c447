import { readFileSync } from 'node:fs';
import { verifyCoordinatorHead } from './auditAnchor.js';
import { readAuditLines } from './auditLines.js';
import { ed25519Verify } from './auditSigner.js';
import { verifyAuditText } from './verifyAuditLog.js';

/** A head of a coordinator's log known from elsewhere: a hash alone, or a client's countersigned record. */
export interface KnownHead {
  readonly hash: string;
  readonly seq?: number;
  readonly round?: number;
  readonly run?: string;
  /** The coordinator's audit signature of `hash`, as the client received it. */
  readonly coordinatorSignature?: string;
  /** Where it came from, for messages ("client log north.audit.jsonl line 12"). */
  readonly source: string;
}

const HEX_256 = /^[0-9a-f]{64}$/;

/**
 * Reads `--head`: a 64-hex hash, a file holding one, or a client's audit log, whose `audit-head` entries are
 * the heads it countersigned. A client log must itself verify: heads from a damaged log prove nothing.
 */
export function readKnownHeads(spec: string): KnownHead[] {
  if (HEX_256.test(spec)) return [{ hash: spec, source: '--head' }];
  const text = readFileSync(spec, 'utf8');
  if (HEX_256.test(text.trim())) return [{ hash: text.trim(), source: spec }];
  const check = verifyAuditText(text);
  if (!check.ok) throw new Error(`${spec} is neither a 64-hex hash nor an intact audit log (${check.problems.length} problem(s), first: ${check.problems[0]!.message})`);
  const heads: KnownHead[] = [];
  for (const line of readAuditLines(text, ed25519Verify)) {
    if (line.kind !== 'entry' || line.entry.type !== 'audit-head') continue;
    const { run, round, seq, hash, coordinatorSignature } = line.entry.data;
    if (typeof hash !== 'string' || !HEX_256.test(hash) || typeof seq !== 'number') continue;
    heads.push({
      hash,
      seq,
      ...(typeof round === 'number' ? { round } : {}),
      ...(typeof run === 'string' ? { run } : {}),
      ...(typeof coordinatorSignature === 'string' ? { coordinatorSignature } : {}),
      source: `${spec} line ${line.line}`,
    });
  }
  if (heads.length === 0) throw new Error(`${spec} is an audit log without any audit-head entry: nothing to check against`);
  return heads;
}

/**
 * Why the log (its text, already verified as a chain signed by `signer`) does not contain each known head:
 * cut off the end (the log stops before the head's seq) or rewritten (another hash at that seq). Heads the
 * signer never signed are reported too: they cannot speak for this log.
 */
export function checkKnownHeads(text: string, signer: Uint8Array | null, heads: readonly KnownHead[]): string[] {
  const bySeq = new Map<number, string>();
  const hashes = new Set<string>();
  let lastSeq = -1;
  for (const line of readAuditLines(text, ed25519Verify)) {
    if (line.kind !== 'entry') continue;
    bySeq.set(line.entry.seq, line.entry.hash);
    hashes.add(line.entry.hash);
    lastSeq = Math.max(lastSeq, line.entry.seq);
  }
  const problems: string[] = [];
  for (const head of heads) {
    const what = `the head ${head.round === undefined ? '' : `of round ${head.round} `}${head.seq === undefined ? '' : `(seq ${head.seq}) `}from ${head.source}, hash ${head.hash.slice(0, 16)}...`;
    if (head.coordinatorSignature !== undefined && (signer === null || !verifyCoordinatorHead(head.hash, head.coordinatorSignature, signer))) {
      problems.push(`${what}: is not signed by this log's signer, so it is no head of this log`);
      continue;
    }
    if (head.seq === undefined) {
      if (!hashes.has(head.hash)) problems.push(`${what}: no entry has this hash: entries were cut off the end (the log ends at seq ${lastSeq}) or rewritten`);
      continue;
    }
    const found = bySeq.get(head.seq);
    if (found === undefined) {
      problems.push(`${what}: the log ends at seq ${lastSeq}: entries seq ${lastSeq + 1} to ${head.seq} at least were cut off the end`);
    } else if (found !== head.hash) {
      problems.push(`${what}: the log's entry seq ${head.seq} has hash ${found.slice(0, 16)}... instead: the log was rewritten at or before seq ${head.seq} (cut and re-extended by the holder of its key)`);
    }
  }
  return problems;
}
