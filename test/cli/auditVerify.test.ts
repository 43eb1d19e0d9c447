import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAuditVerify } from '../../src/cli/auditVerify.js';
import { serializeAuditEntry, signAuditEntry, type AuditEntry } from '../../src/crypto/auditEntry.js';
import { AuditLog } from '../../src/crypto/auditLog.js';
import { auditKeyFingerprint, generateAuditSigner, type AuditSigner } from '../../src/crypto/auditSigner.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const parse = (line: string) => JSON.parse(line) as AuditEntry;

let dir: string;
let owner: AuditSigner;
let logPath: string;
let lines: string[];

function verify(path: string, key?: string): { code: number; out: string[] } {
  const out: string[] = [];
  const code = runAuditVerify(path, key === undefined ? {} : { publicKey: key }, (line) => out.push(line));
  return { code, out };
}

function copy(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cohort-audit-cli-'));
  owner = generateAuditSigner();
  logPath = join(dir, 'audit.jsonl');
  const log = AuditLog.open(logPath, owner);
  for (let i = 0; i < 20; i++) log.append('round-participation', { round: i, clients: ['north', 'south'] });
  log.close();
  lines = readFileSync(logPath, 'utf8').split('\n').slice(0, -1);
});

describe('cohort audit verify', () => {
  it('prints the entry count, signer and last hash of an intact log and exits 0', () => {
    const fp = auditKeyFingerprint(owner.publicKey);
    const last = parse(lines[19]!).hash;
    expect(verify(logPath)).toEqual({
      code: 0,
      out: [`audit log ok: 20 entries, signer ${fp} (${b64(owner.publicKey)}), not pinned (pass --key to require it), last hash ${last}`],
    });
    expect(verify(logPath, b64(owner.publicKey))).toEqual({
      code: 0,
      out: [`audit log ok: 20 entries, signer ${fp} (${b64(owner.publicKey)}), as pinned, last hash ${last}`],
    });
  });

  it('prints one line per problem and exits 1 for each kind of tampering', () => {
    const edited = [...lines];
    edited[16] = serializeAuditEntry({ ...parse(lines[16]!), data: { round: 16, clients: ['north'] } });
    const removed = lines.filter((_, i) => i !== 16);
    const inserted = [...lines];
    const forger = generateAuditSigner();
    const prev = parse(lines[15]!);
    inserted.splice(16, 0, serializeAuditEntry(signAuditEntry({ ...prev, seq: 16, prev: prev.hash, signer: b64(forger.publicKey) }, forger)));
    const swapped = [...lines];
    [swapped[16], swapped[17]] = [lines[17]!, lines[16]!];
    const cases: [string, string, RegExp][] = [
      ['edited', `${edited.join('\n')}\n`, /^line 17 \(seq 16\): edited: its content no longer matches its hash/],
      ['removed', `${removed.join('\n')}\n`, /^line 17 \(seq 16\): removed: entry seq 16 is missing between line 16 \(seq 15\) and line 17 \(seq 17\)$/],
      ['inserted', `${inserted.join('\n')}\n`, /^line 17 \(seq 16\): inserted: an extra entry: line 16 \(seq 15\) and line 18 \(seq 16\) chain to each other directly, and it is signed by key [0-9a-f]{16}/],
      ['swapped', `${swapped.join('\n')}\n`, /^line 17 \(seq 17\): reordered: the entry is intact but out of order: seq 17 comes before seq 16 \(line 18\)/],
      ['truncated', `${lines.join('\n')}\n${lines[0]!.slice(0, 30)}`, /^line 21: malformed: incomplete last line/],
    ];
    for (const [name, content, problem] of cases) {
      const path = copy(`${name}.jsonl`, content);
      const { code, out } = verify(path);
      expect(code, name).toBe(1);
      expect(out, name).toHaveLength(2);
      expect(out[0], name).toBe(`audit log ${path} FAILED verification: 1 problem`);
      expect(out[1], name).toMatch(problem);
    }
  });

  it('refuses a log that is not signed by the pinned key', () => {
    const other = generateAuditSigner();
    const { code, out } = verify(logPath, b64(other.publicKey));
    expect(code).toBe(1);
    expect(out[1]).toBe(
      `line 1 (seq 0): wrong-signer: no entry is signed by the expected key ${auditKeyFingerprint(other.publicKey)}; the log is signed by ${auditKeyFingerprint(owner.publicKey)}`,
    );
  });

  it('exits 1 with a clear line for a bad key or an unreadable file', () => {
    expect(verify(logPath, 'not-a-key')).toEqual({
      code: 1,
      out: ['error: --key must be a base64 Ed25519 public key (32 bytes, 44 characters), got "not-a-key"'],
    });
    const missing = join(dir, 'missing.jsonl');
    const { code, out } = verify(missing);
    expect(code).toBe(1);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^error: cannot read audit log .*missing\.jsonl: ENOENT/);
  });
});
