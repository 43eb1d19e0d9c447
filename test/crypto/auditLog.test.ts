import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_PREV, auditSignedMessage, serializeAuditEntry, signAuditEntry, type AuditEntry } from '../../src/crypto/auditEntry.js';
import { AuditLog, AuditLogError } from '../../src/crypto/auditLog.js';
import { auditKeyFingerprint, ed25519AuditSigner, ed25519Verify, generateAuditSigner, type AuditSigner } from '../../src/crypto/auditSigner.js';
import { canonicalJson, type JsonObject } from '../../src/crypto/canonicalJson.js';
import { verifyAuditLog, verifyAuditText, type AuditProblem } from '../../src/crypto/verifyAuditLog.js';

const ENTRIES = 20;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const parse = (line: string) => JSON.parse(line) as AuditEntry;
const problemsOf = (text: string, publicKey?: Uint8Array): readonly AuditProblem[] => {
  const result = verifyAuditText(text, publicKey ? { publicKey } : {});
  return result.ok ? [] : result.problems;
};
const summary = (problems: readonly AuditProblem[]) => problems.map((p) => ({ line: p.line, seq: p.seq, kind: p.kind }));
const text = (lines: readonly string[]) => `${lines.join('\n')}\n`;

let dir: string;
let owner: AuditSigner;
let forger: AuditSigner;
let logPath: string;
let lines: string[];

function clock(start = Date.UTC(2025, 0, 1)): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

/** An entry for `seq` chained after `prev`, claiming `claimed` as its signer but signed by `signedBy`. */
function forge(seq: number, prev: AuditEntry, claimed: AuditSigner, signedBy: AuditSigner): string {
  const body = { seq, time: prev.time, type: 'config-change', data: { rounds: 1000 }, prev: prev.hash, signer: b64(claimed.publicKey) };
  return serializeAuditEntry(signAuditEntry(body, signedBy));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cohort-audit-'));
  owner = generateAuditSigner();
  forger = generateAuditSigner();
  logPath = join(dir, 'audit.jsonl');
  const log = AuditLog.open(logPath, owner, { now: clock() });
  const types = ['client-connected', 'auth-failed', 'round-participation', 'payload-hash', 'model-version', 'config-change', 'upload-sent'];
  for (let i = 0; i < ENTRIES; i++) log.append(types[i % types.length]!, { round: Math.floor(i / 3), client: `client-${i % 3}`, note: 'ünïcødé ✓' });
  log.close();
  lines = readFileSync(logPath, 'utf8').split('\n').slice(0, -1);
});

describe('verifyAuditLog', () => {
  it('accepts the intact log, with or without the pinned signer key', () => {
    const last = parse(lines[ENTRIES - 1]!);
    expect(verifyAuditLog(logPath)).toEqual({ ok: true, entries: ENTRIES, lastHash: last.hash, signer: owner.publicKey });
    expect(verifyAuditLog(logPath, { publicKey: owner.publicKey }).ok).toBe(true);
    expect(verifyAuditText('')).toEqual({ ok: true, entries: 0, lastHash: AUDIT_GENESIS_PREV, signer: null });
  });

  it('names the entry whose data was edited', () => {
    const edited = [...lines];
    edited[7] = serializeAuditEntry({ ...parse(lines[7]!), data: { round: 2, client: 'client-9', note: 'ünïcødé ✓' } });
    const problems = problemsOf(text(edited));
    expect(summary(problems)).toEqual([{ line: 8, seq: 7, kind: 'edited' }]);
    expect(problems[0]!.message).toMatch(/content no longer matches its hash/);
  });

  it('names the gap where an entry was removed, and the missing seq', () => {
    const removed = lines.filter((_, i) => i !== 7);
    const problems = problemsOf(text(removed));
    expect(summary(problems)).toEqual([{ line: 8, seq: 7, kind: 'removed' }]);
    expect(problems[0]!.message).toBe('entry seq 7 is missing between line 7 (seq 6) and line 8 (seq 8)');
    expect(summary(problemsOf(text(lines.slice(3))))).toEqual([{ line: 1, seq: 0, kind: 'removed' }]);
  });

  it('names an inserted entry forged with another key', () => {
    const inserted = [...lines];
    inserted.splice(9, 0, forge(9, parse(lines[8]!), forger, forger));
    const problems = problemsOf(text(inserted));
    expect(summary(problems)).toEqual([{ line: 10, seq: 9, kind: 'inserted' }]);
    expect(problems[0]!.message).toContain(`signed by key ${auditKeyFingerprint(forger.publicKey)}, not by the log's signer ${auditKeyFingerprint(owner.publicKey)}`);
  });

  it("names an inserted entry whose hash was recomputed but which claims the owner's key without its signature", () => {
    const inserted = [...lines];
    inserted.splice(9, 0, forge(9, parse(lines[8]!), owner, forger));
    const problems = problemsOf(text(inserted));
    expect(summary(problems)).toEqual([{ line: 10, seq: 9, kind: 'inserted' }]);
    expect(problems[0]!.message).toMatch(/hash matches its content but its signature does not verify/);
  });

  it('tells a replaced entry (re-hashed, or signed by another key) from an inserted one', () => {
    const original = parse(lines[7]!);
    const rehashed = [...lines];
    rehashed[7] = serializeAuditEntry(signAuditEntry({ ...original, data: { round: 99 } }, forger));
    expect(summary(problemsOf(text(rehashed)))).toEqual([{ line: 8, seq: 7, kind: 'bad-signature' }]);
    const resigned = [...lines];
    resigned[7] = serializeAuditEntry(signAuditEntry({ ...original, data: { round: 99 }, signer: b64(forger.publicKey) }, forger));
    expect(summary(problemsOf(text(resigned)))).toEqual([{ line: 8, seq: 7, kind: 'wrong-signer' }]);
  });

  it('names swapped, moved and duplicated entries that are themselves intact', () => {
    const swapped = [...lines];
    [swapped[7], swapped[8]] = [lines[8]!, lines[7]!];
    const problems = problemsOf(text(swapped));
    expect(summary(problems)).toEqual([{ line: 8, seq: 8, kind: 'reordered' }]);
    expect(problems[0]!.message).toBe('the entry is intact but out of order: seq 8 comes before seq 7 (line 9); it belongs right after seq 7');
    const moved = lines.filter((_, i) => i !== 3);
    moved.splice(12, 0, lines[3]!);
    expect(summary(problemsOf(text(moved)))).toEqual([{ line: 13, seq: 3, kind: 'reordered' }]);
    const copied = [...lines];
    copied.splice(12, 0, lines[3]!);
    expect(problemsOf(text(copied))).toEqual([{ line: 13, seq: 3, kind: 'inserted', message: 'a copy of line 4' }]);
  });

  it('reports every problem of a file tampered in several places, in line order', () => {
    const tampered = [...lines];
    tampered[4] = serializeAuditEntry({ ...parse(lines[4]!), type: 'nothing-happened' });
    tampered.splice(12, 1);
    [tampered[15], tampered[16]] = [tampered[16]!, tampered[15]!];
    expect(summary(problemsOf(text(tampered)))).toEqual([
      { line: 5, seq: 4, kind: 'edited' },
      { line: 13, seq: 12, kind: 'removed' },
      { line: 16, seq: 17, kind: 'reordered' },
    ]);
  });

  it('reports a half-written last line and a missing final newline, without repairing', () => {
    const whole = text(lines);
    const cut = whole.slice(0, whole.length - 40);
    const problems = problemsOf(cut);
    expect(summary(problems)).toEqual([{ line: ENTRIES, seq: undefined, kind: 'malformed' }]);
    expect(problems[0]!.message).toMatch(/^incomplete last line \(no newline at the end/);
    expect(summary(problemsOf(whole.slice(0, -1)))).toEqual([{ line: ENTRIES, seq: ENTRIES - 1, kind: 'malformed' }]);
  });

  it('reports garbage and reformatted lines', () => {
    const garbage = [...lines];
    garbage[5] = '{"seq":5,';
    expect(summary(problemsOf(text(garbage)))).toEqual([{ line: 6, seq: undefined, kind: 'malformed' }]);
    const reformatted = [...lines];
    reformatted[5] = JSON.stringify(parse(lines[5]!), null, 1).replaceAll('\n', '');
    expect(summary(problemsOf(text(reformatted)))).toEqual([{ line: 6, seq: 5, kind: 'edited' }]);
    const extraField = [...lines];
    extraField[5] = serializeAuditEntry(parse(lines[5]!)).replace('{', '{"admin":true,');
    expect(summary(problemsOf(text(extraField)))).toEqual([{ line: 6, seq: undefined, kind: 'malformed' }]);
  });

  it('refuses a log signed by a key other than the pinned one, even if every entry is valid', () => {
    const problems = problemsOf(text(lines), forger.publicKey);
    expect(problems).toEqual([
      {
        line: 1,
        seq: 0,
        kind: 'wrong-signer',
        message: `no entry is signed by the expected key ${auditKeyFingerprint(forger.publicKey)}; the log is signed by ${auditKeyFingerprint(owner.publicKey)}`,
      },
    ]);
    // A whole log rewritten under the forger's key verifies on its own: only the pinned key catches it.
    const rewritten: string[] = [];
    let prev = AUDIT_GENESIS_PREV;
    for (const line of lines) {
      const e = signAuditEntry({ ...parse(line), prev, signer: b64(forger.publicKey) }, forger);
      rewritten.push(serializeAuditEntry(e));
      prev = e.hash;
    }
    expect(verifyAuditText(text(rewritten)).ok).toBe(true);
    expect(summary(problemsOf(text(rewritten), owner.publicKey))).toEqual([{ line: 1, seq: 0, kind: 'wrong-signer' }]);
  });

  it('trusts the pinned key over the key that signed most entries', () => {
    // The last 12 of 20 entries rewritten under the forger's key, chained on from the owner's entry seq 7.
    const spliced = lines.slice(0, 8);
    let prev = parse(lines[7]!).hash;
    for (const line of lines.slice(8)) {
      const e = signAuditEntry({ ...parse(line), data: {}, prev, signer: b64(forger.publicKey) }, forger);
      spliced.push(serializeAuditEntry(e));
      prev = e.hash;
    }
    const pinned = problemsOf(text(spliced), owner.publicKey);
    expect(pinned.map((p) => [p.line, p.kind])).toEqual(lines.slice(8).map((_, i) => [9 + i, 'wrong-signer']));
    expect(problemsOf(text(spliced)).every((p) => p.line <= 8)).toBe(true);
  });
});

describe('AuditLog', () => {
  it('creates the file owner-only and chains each entry to the one before', () => {
    expect(statSync(logPath).mode & 0o777).toBe(0o600);
    const entries = lines.map(parse);
    expect(entries.map((e) => e.seq)).toEqual([...Array(ENTRIES).keys()]);
    expect(entries[0]!.prev).toBe(AUDIT_GENESIS_PREV);
    for (let i = 1; i < ENTRIES; i++) expect(entries[i]!.prev).toBe(entries[i - 1]!.hash);
    expect(entries[0]!.time).toBe('2025-01-01T00:00:01.000Z');
  });

  it('continues the chain when reopened by the same signer', () => {
    const path = join(dir, 'reopen.jsonl');
    writeFileSync(path, text(lines), { mode: 0o600 });
    const log = AuditLog.open(path, owner);
    expect(log.entries).toBe(ENTRIES);
    const entry = log.append('model-version', { version: 7, sha256: 'ab'.repeat(32) });
    log.close();
    expect(entry.seq).toBe(ENTRIES);
    expect(entry.prev).toBe(parse(lines[ENTRIES - 1]!).hash);
    expect(verifyAuditLog(path, { publicKey: owner.publicKey })).toMatchObject({ ok: true, entries: ENTRIES + 1, lastHash: entry.hash });
  });

  it('refuses to reopen a tampered or half-written file, naming the line', () => {
    const tampered = join(dir, 'tampered.jsonl');
    writeFileSync(tampered, text(lines.filter((_, i) => i !== 7)));
    expect(() => AuditLog.open(tampered, owner)).toThrow(/fails verification[^]*line 8 \(seq 7\): removed: entry seq 7 is missing/);
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, text(lines));
    appendFileSync(cut, lines[0]!.slice(0, 50));
    let error: unknown;
    try {
      AuditLog.open(cut, owner);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuditLogError);
    expect((error as AuditLogError).problems.map((p) => [p.line, p.kind])).toEqual([[ENTRIES + 1, 'malformed']]);
    expect(readFileSync(cut, 'utf8')).toBe(text(lines) + lines[0]!.slice(0, 50));
  });

  it("refuses to continue another signer's chain", () => {
    expect(() => AuditLog.open(logPath, forger)).toThrow(
      `audit log ${logPath} was written by key ${auditKeyFingerprint(owner.publicKey)}, not by this node's key ${auditKeyFingerprint(forger.publicKey)}`,
    );
  });

  it('refuses data that is not plain JSON before writing anything, and stays usable', () => {
    const path = join(dir, 'strict.jsonl');
    const log = AuditLog.open(path, owner);
    expect(() => log.append('x', { n: Number.NaN })).toThrow(/\$\.data\.n is NaN/);
    expect(() => log.append('x', { when: new Date() } as unknown as JsonObject)).toThrow(/\$\.data\.when is a Date object/);
    expect(() => log.append('x', { gone: undefined } as unknown as JsonObject)).toThrow(/\$\.data\.gone is undefined/);
    expect(() => log.append('', {})).toThrow(/non-empty/);
    log.append('config-change', { rounds: 5 });
    log.close();
    expect(() => log.append('x', {})).toThrow(/closed/);
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, entries: 1 });
  });

  it('signs with tweetnacl-format keys, and tweetnacl verifies the signatures', () => {
    const pair = nacl.sign.keyPair();
    const signer = ed25519AuditSigner(pair.secretKey);
    expect(b64(signer.publicKey)).toBe(b64(pair.publicKey));
    const path = join(dir, 'nacl.jsonl');
    const log = AuditLog.open(path, signer, { verify: (m, s, k) => nacl.sign.detached.verify(m, s, k) });
    const entry = log.append('client-connected', { client: 'north' });
    log.close();
    const sig = Buffer.from(entry.sig, 'base64');
    expect(nacl.sign.detached.verify(auditSignedMessage(entry.hash), sig, pair.publicKey)).toBe(true);
    expect(ed25519Verify(auditSignedMessage(entry.hash), sig, pair.publicKey)).toBe(true);
    const mismatched = new Uint8Array(pair.secretKey);
    mismatched[40]! ^= 1;
    expect(() => ed25519AuditSigner(mismatched)).toThrow(/audit signing key is inconsistent/);
  });
});

describe('canonicalJson', () => {
  // U+1F600 is the surrogate pair D83D DE00, so it sorts before U+FFFF (RFC 8785 section 3.2.3), unlike by code point.
  it('sorts keys by UTF-16 code units and writes no whitespace', () => {
    expect(canonicalJson({ b: [1, 2.5, -0, 1e21], a: { z: null, é: true, A: 'x"\n' }, '\u{1F600}': 1, '\uFFFF': 2 })).toBe(
      '{"a":{"A":"x\\"\\n","z":null,"é":true},"b":[1,2.5,0,1e+21],"\u{1F600}":1,"\uFFFF":2}',
    );
  });

  it('refuses values that JSON.stringify would change silently', () => {
    expect(() => canonicalJson({ a: [Number.POSITIVE_INFINITY] })).toThrow('$.a[0] is Infinity');
    expect(() => canonicalJson({ s: 'lone \uD800' })).toThrow('lone UTF-16 surrogate');
    const cycle: JsonObject = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow('cycle');
  });
});
