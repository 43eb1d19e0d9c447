import { AUDIT_GENESIS_PREV } from './auditEntry.js';
import type { AuditLine } from './auditLines.js';
import { auditKeyFingerprint } from './auditSigner.js';

/** What is wrong with an audit log at a place: an entry edited, removed, inserted or reordered, a bad or foreign signature, a malformed line. */
export type AuditProblemKind = 'edited' | 'removed' | 'inserted' | 'reordered' | 'bad-signature' | 'malformed' | 'wrong-signer';

/** One problem verification found, where it is, and what it means. */
export interface AuditProblem {
  /** 1-based line in the file; for 'removed', the line just after the gap. */
  readonly line: number;
  /** The entry's seq as written; for 'removed', the first missing seq. */
  readonly seq?: number;
  /** What is wrong. */
  readonly kind: AuditProblemKind;
  /** The problem in words. */
  readonly message: string;
}

type Entry = Extract<AuditLine, { kind: 'entry' }>;
interface Anchor {
  readonly line: number;
  readonly seq: number;
  readonly hash: string;
}
const START: Anchor = { line: 0, seq: -1, hash: AUDIT_GENESIS_PREV };

/**
 * Finds what was done to a log, given each line checked on its own and the log's signer (base64).
 *
 * Authentic entries (hash matches, signature verifies, signed by `signer`) cannot have been altered by anyone
 * without the key, so they are the ground truth. Their longest run in increasing seq order is the backbone;
 * an authentic entry off it is a copy or out of order ('inserted', 'reordered'). Between two backbone
 * entries, seqs that no authentic entry holds were either replaced in place by a non-authentic line (which is
 * then 'edited', 'bad-signature' or 'wrong-signer') or are gone ('removed'); a non-authentic line where no seq
 * is missing is 'inserted'. A forger who recomputes hashes still fails the signature, and one who signs with
 * their own key fails the signer check; only a holder of the log's key can rewrite history undetected (and,
 * without an anchor kept elsewhere, anyone can cut whole entries off the end).
 */
export function findAuditProblems(lines: readonly AuditLine[], signer: string | null): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const push = (line: number, seq: number | undefined, kind: AuditProblemKind, message: string) =>
    problems.push(seq === undefined ? { line, kind, message } : { line, seq, kind, message });
  // Not a type guard: its false branch would wrongly narrow to malformed lines.
  const isAuthentic = (l: AuditLine): boolean => l.kind === 'entry' && l.hashOk && l.sigOk && l.entry.signer === signer;
  const authentic = lines.filter((l): l is Entry => l.kind === 'entry' && isAuthentic(l));
  const anchor = (l: Entry): Anchor => ({ line: l.line, seq: l.entry.seq, hash: l.entry.hash });
  const where = (a: Anchor) => (a.line === 0 ? 'the start of the file' : `line ${a.line} (seq ${a.seq})`);

  for (const l of lines) {
    if (l.kind === 'malformed') {
      push(l.line, undefined, 'malformed', l.unterminated
        ? `incomplete last line (no newline at the end: an append cut short by a crash?): ${l.error}; nothing was repaired`
        : `not a valid entry: ${l.error}`);
    } else if (l.unterminated) {
      push(l.line, l.entry.seq, 'malformed', 'the last line has no newline at the end (a write cut short, or the file was edited); nothing was repaired');
    } else if (!l.canonical && isAuthentic(l)) {
      push(l.line, l.entry.seq, 'edited', 'the line was reformatted (not its canonical JSON); its content still matches its hash and signature');
    }
  }

  const backbone = longestIncreasing(authentic.map((l) => l.entry.seq)).map((i) => authentic[i]!);
  const onBackbone = new Set<AuditLine>(backbone);
  const bySeq = new Map(backbone.map((l) => [l.entry.seq, l]));
  const backboneLines = backbone.map((l) => l.line);
  const present = new Set(authentic.map((l) => l.entry.seq));
  const presentSorted = [...present].sort((a, b) => a - b);
  for (const l of authentic) {
    if (onBackbone.has(l)) continue;
    const twin = bySeq.get(l.entry.seq);
    if (twin) {
      push(l.line, l.entry.seq, 'inserted', twin.entry.hash === l.entry.hash
        ? `a copy of line ${twin.line}`
        : `a second signed entry for seq ${l.entry.seq} (line ${twin.line} has the other): two writers on one file, or spliced from another log`);
      continue;
    }
    const at = lowerBound(backboneLines, l.line);
    const before = backbone[at - 1];
    const after = backbone[at];
    const order = before && before.entry.seq > l.entry.seq
      ? `comes after seq ${before.entry.seq} (line ${before.line})`
      : `comes before seq ${after?.entry.seq ?? '?'} (line ${after?.line ?? '?'})`;
    const home = l.entry.seq === 0 ? 'it belongs first' : present.has(l.entry.seq - 1) ? `it belongs right after seq ${l.entry.seq - 1}` : `seq ${l.entry.seq - 1} is missing too`;
    push(l.line, l.entry.seq, 'reordered', `the entry is intact but out of order: seq ${l.entry.seq} ${order}; ${home}`);
  }

  // A line that stands in for an entry: report why it is not authentic.
  const inPlace = (l: Entry) => {
    const { kind, text } = whyNotAuthentic(l, signer);
    push(l.line, l.entry.seq, kind, text);
  };
  const extra = (l: Entry, text: string) => push(l.line, l.entry.seq, 'inserted', `${text}, and ${whyNotAuthentic(l, signer).text}`);

  let p = START;
  for (const q of [...backbone, undefined]) {
    // lines[i] is line i + 1, so the lines strictly between p and q are a slice.
    const between = lines.slice(p.line, q ? q.line - 1 : lines.length).filter((l) => !isAuthentic(l));
    if (!q) {
      // After the last authentic entry nothing bounds the seqs: lines that continue the numbering stand in for entries.
      let next = p.seq + 1;
      for (const l of between) {
        if (l.kind === 'malformed' || l.entry.seq === next) {
          if (l.kind === 'entry') inPlace(l);
          next += 1;
        } else {
          extra(l, `an extra entry: seq ${l.entry.seq} where seq ${next} was due after ${where(p)}`);
        }
      }
      break;
    }
    const qa = anchor(q);
    if (qa.seq === p.seq + 1 && q.entry.prev !== p.hash) {
      const link = p.line === 0 ? "its prev is not 64 zeros, as the first entry's must be" : `its prev is not the hash of ${where(p)}`;
      push(q.line, qa.seq, 'inserted', `signed, but ${link}: it belongs to another chain by the same key (spliced from another log, or two writers on one file)`);
    }
    const gap = missingRuns(p.seq, qa.seq, presentSorted);
    const used = new Set<number>();
    const unplaced: AuditLine[] = [];
    for (const l of between) {
      if (l.kind === 'entry' && inRuns(gap, l.entry.seq) && !used.has(l.entry.seq)) {
        used.add(l.entry.seq);
        inPlace(l);
      } else {
        unplaced.push(l);
      }
    }
    // Lines whose seq was edited, and malformed lines, still take up the slots left free, in order.
    for (const l of unplaced) {
      const slot = firstFree(gap, used);
      if (slot !== undefined) {
        used.add(slot);
        if (l.kind === 'entry') inPlace(l);
      } else if (l.kind === 'entry') {
        extra(l, gap.length === 0
          ? `an extra entry: ${where(p)} and ${where(qa)} chain to each other directly`
          : `an extra entry: no seq between ${where(p)} and ${where(qa)} is left for it`);
      }
    }
    for (const [from, to] of subtract(gap, used)) {
      push(q.line, from, 'removed', from === to
        ? `entry seq ${from} is missing between ${where(p)} and ${where(qa)}`
        : `entries seq ${from} to ${to} (${to - from + 1}) are missing between ${where(p)} and ${where(qa)}`);
    }
    p = qa;
  }
  return problems.sort((a, b) => a.line - b.line);
}

function whyNotAuthentic(l: Entry, signer: string | null): { kind: 'edited' | 'wrong-signer' | 'bad-signature'; text: string } {
  if (!l.hashOk) {
    return { kind: 'edited', text: `its content no longer matches its hash (hash field ${l.entry.hash.slice(0, 12)}…, content hashes to ${l.contentHash.slice(0, 12)}…)` };
  }
  const fp = auditKeyFingerprint(Buffer.from(l.entry.signer, 'base64'));
  if (signer !== null && l.entry.signer !== signer) {
    const own = l.sigOk ? '' : ' (and the signature does not verify even for that key)';
    return { kind: 'wrong-signer', text: `it is signed by key ${fp}${own}, not by the log's signer ${auditKeyFingerprint(Buffer.from(signer, 'base64'))}` };
  }
  return { kind: 'bad-signature', text: `its hash matches its content but its signature does not verify under key ${fp}: changed and re-hashed by someone without the key` };
}

type Run = readonly [from: number, to: number];

/** Runs of seqs strictly between `after` and `before` that no authentic entry holds (`present`, ascending); runs, as a gap can be large. */
function missingRuns(after: number, before: number, present: readonly number[]): Run[] {
  const out: Run[] = [];
  if (before === after + 1) return out;
  const held: number[] = [];
  for (let i = lowerBound(present, after + 1); i < present.length && present[i]! < before; i++) held.push(present[i]!);
  let from = after + 1;
  for (const s of [...held, before]) {
    if (s > from) out.push([from, s - 1]);
    from = s + 1;
  }
  return out;
}

function inRuns(runs: readonly Run[], seq: number): boolean {
  return runs.some(([from, to]) => seq >= from && seq <= to);
}

function firstFree(runs: readonly Run[], used: ReadonlySet<number>): number | undefined {
  for (const [from, to] of runs) {
    for (let s = from; s <= to; s++) if (!used.has(s)) return s;
  }
  return undefined;
}

/** The runs without the (few) points in `used`. */
function subtract(runs: readonly Run[], used: ReadonlySet<number>): Run[] {
  const points = [...used].sort((a, b) => a - b);
  const out: Run[] = [];
  for (const [from, to] of runs) {
    let start = from;
    for (const s of points) {
      if (s < start || s > to) continue;
      if (s > start) out.push([start, s - 1]);
      start = s + 1;
    }
    if (start <= to) out.push([start, to]);
  }
  return out;
}

/** Index of the first of `sorted` (ascending) that is >= `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Indices of a longest strictly increasing subsequence (patience sorting, O(n log n)). */
function longestIncreasing(values: readonly number[]): number[] {
  const tails: number[] = []; // tails[k]: index of the smallest last value of an increasing run of length k + 1
  const parent: number[] = [];
  values.forEach((v, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    parent[i] = lo > 0 ? tails[lo - 1]! : -1;
    tails[lo] = i;
  });
  const out: number[] = [];
  for (let i = tails.at(-1) ?? -1; i >= 0; i = parent[i]!) out.push(i);
  return out.reverse();
}

/** One line for people: `line 17 (seq 16): edited: its content no longer matches its hash (...)`. */
export function formatAuditProblem(problem: AuditProblem): string {
  const seq = problem.seq === undefined ? '' : ` (seq ${problem.seq})`;
  return `line ${problem.line}${seq}: ${problem.kind}: ${problem.message}`;
}
