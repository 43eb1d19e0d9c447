import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAuditVerify } from '../../src/cli/auditVerify.js';
import { openAuditTrail } from '../../src/cli/nodeSecurity.js';
import { AuditAnchor } from '../../src/client/node/auditAnchor.js';
import { AccessList } from '../../src/coordinator/accessList.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { verifyAuditHeadCountersignature } from '../../src/crypto/auditAnchor.js';
import type { AuditEntry } from '../../src/crypto/auditEntry.js';
import { AuditLog } from '../../src/crypto/auditLog.js';
import { ed25519AuditSigner } from '../../src/crypto/auditSigner.js';
import { generateIdentity, type Identity } from '../../src/crypto/identity.js';
import type { Message } from '../../src/protocol/messages.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { silent } from '../helpers/silentLogger.js';

const fit = { epochs: 2, batchSize: 8, learningRate: 0.2 };
const entries = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);

function verify(path: string, head?: string): { code: number; out: string[] } {
  const out: string[] = [];
  const code = runAuditVerify(path, head === undefined ? {} : { head }, (line) => out.push(line));
  return { code, out };
}

let fed: TestFederation;
afterEach(async () => fed.close());

/** Runs three rounds with two clients, each side keeping a real signed audit log; returns the paths. */
async function federationWithLogs(dir: string): Promise<{ coordinatorLog: string; clientLogs: string[]; coordinatorKey: Identity; runId: string }> {
  fed = new TestFederation();
  const coordinatorKey = generateIdentity();
  const keys = [generateIdentity(), generateIdentity()];
  const coordinatorLog = join(dir, 'coordinator.audit.jsonl');
  const audit = openAuditTrail(coordinatorLog, coordinatorKey, silent);
  const access = AccessList.of(keys.map((k, i) => ({ name: `h${i}`, publicKey: k.publicKey, role: 'client' as const })));
  const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 2, fit }), initialWeights: linearZeros(), rounds: 3, identity: coordinatorKey, access, audit, logger: silent });
  const clientLogs = keys.map((_, i) => join(dir, `h${i}.audit.jsonl`));
  const handles = keys.map((identity, i) => {
    const d = linearData(30, i + 1);
    const clientAudit = openAuditTrail(clientLogs[i]!, identity, silent);
    return fed.client(coordinator.url, `h${i}`, new LinearTrainer(d.xs, d.ys), { identity, coordinatorKey: coordinatorKey.publicKey, audit: clientAudit, logger: silent });
  });
  await coordinator.run();
  await Promise.all(handles.map((h) => h.done));
  audit.close();
  return { coordinatorLog, clientLogs, coordinatorKey, runId: coordinator.runId };
}

describe('audit anchoring', () => {
  it('each round head is countersigned by its participants, kept in their logs, and catches a cut or re-extended log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-anchor-'));
    const { coordinatorLog, clientLogs, coordinatorKey, runId } = await federationWithLogs(dir);
    const log = entries(coordinatorLog);
    const rounds = log.filter((e) => e.type === 'round-completed');
    expect(rounds.map((e) => e.data.round)).toEqual([1, 2, 3]);
    // The coordinator logged both countersignatures of every round's head, each valid under the client's key.
    const countersigned = log.filter((e) => e.type === 'audit-head-countersigned');
    expect(countersigned.map((e) => `${e.data.round}:${e.data.client}`).sort()).toEqual(['1:h0', '1:h1', '2:h0', '2:h1', '3:h0', '3:h1']);
    for (const e of countersigned) {
      const head = rounds.find((r) => r.data.round === e.data.round)!;
      expect(e.data.hash).toBe(head.hash);
      expect(e.data.seq).toBe(head.seq);
    }
    // Each client kept every head with its own countersignature, which verifies under its identity key.
    for (const path of clientLogs) {
      const heads = entries(path).filter((e) => e.type === 'audit-head');
      expect(heads.map((e) => e.data.hash)).toEqual(rounds.map((r) => r.hash));
      const signer = new Uint8Array(Buffer.from(heads[0]!.signer, 'base64'));
      for (const h of heads) {
        expect(verifyAuditHeadCountersignature({ runId, round: h.data.round as number, seq: h.data.seq as number, hash: h.data.hash as string }, h.data.countersignature as string, signer)).toBe(true);
      }
    }
    const clientLog = clientLogs[0]!;
    const lastHead = rounds.at(-1)!;
    expect(verify(coordinatorLog, clientLog).code).toBe(0);
    expect(verify(coordinatorLog, clientLog).out[0]).toMatch(/audit log ok: .*; contains all 3 known heads$/);

    // Truncated: the last round and everything after it cut off. The chain alone still verifies.
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, log.slice(0, lastHead.seq).map((e) => `${JSON.stringify(e)}\n`).join(''));
    // JSON.stringify keeps the stored key order, which is the canonical one: the cut file is byte-identical up to there.
    expect(readFileSync(coordinatorLog, 'utf8').startsWith(readFileSync(cut, 'utf8'))).toBe(true);
    expect(verify(cut).code).toBe(0);
    const byClient = verify(cut, clientLog);
    expect(byClient.code).toBe(1);
    expect(byClient.out[0]).toMatch(/FAILED verification against known heads: 1 of 3 heads not in the log/);
    expect(byClient.out[1]).toMatch(new RegExp(`the head of round 3 \\(seq ${lastHead.seq}\\) from .*h0\\.audit\\.jsonl line \\d+.*: the log ends at seq ${lastHead.seq - 1}: entries seq ${lastHead.seq} to ${lastHead.seq} at least were cut off the end`));
    const byHash = verify(cut, lastHead.hash);
    expect(byHash.code).toBe(1);
    expect(byHash.out[1]).toMatch(/no entry has this hash: entries were cut off the end/);

    // Re-extended: the holder of the coordinator's key appends a different round 3 where the cut was.
    const rewritten = join(dir, 'rewritten.jsonl');
    copyFileSync(cut, rewritten);
    const forger = AuditLog.open(rewritten, ed25519AuditSigner(coordinatorKey.secretKey));
    forger.append('round-completed', { ...lastHead.data, participants: ['h1'], dropped: [{ client: 'h0', reason: 'timeout' }] });
    for (let i = 0; i < 10; i++) forger.append('client-disconnected', { client: 'h0', reason: 'transport close' });
    forger.close();
    expect(verify(rewritten).code).toBe(0);
    const rewrite = verify(rewritten, clientLogs[1]!);
    expect(rewrite.code).toBe(1);
    expect(rewrite.out[1]).toMatch(new RegExp(`the head of round 3 \\(seq ${lastHead.seq}\\) .*: the log's entry seq ${lastHead.seq} has hash [0-9a-f]{16}\\.\\.\\. instead: the log was rewritten at or before seq ${lastHead.seq}`));
    expect(verify(rewritten, lastHead.hash).code).toBe(1);
    // A client log that was itself edited proves nothing and is refused as a source of heads.
    const editedClient = join(dir, 'edited-client.jsonl');
    writeFileSync(editedClient, readFileSync(clientLog, 'utf8').replace(lastHead.hash, rounds[0]!.hash));
    expect(verify(coordinatorLog, editedClient).out[0]).toMatch(/^error: --head: .* is neither a 64-hex hash nor an intact audit log/);
  }, 60_000);

  it('a client refuses a head its coordinator did not sign, and one that rewinds what it already countersigned', async () => {
    const coordinator = generateIdentity();
    const client = generateIdentity();
    const kept: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
    const sent: Message[] = [];
    const anchor = new AuditAnchor({ identity: client, audit: { append: (type, data) => void kept.push({ type, data }) }, send: async (m) => void sent.push(m) });
    anchor.authenticated('run-1', coordinator.publicKey);
    // Signed entries of a real log by the coordinator's key give real heads.
    const dir = mkdtempSync(join(tmpdir(), 'cohort-anchor-unit-'));
    const real = AuditLog.open(join(dir, 'c.jsonl'), ed25519AuditSigner(coordinator.secretKey));
    const e0 = real.append('round-completed', { round: 1 });
    const e1 = real.append('round-completed', { round: 2 });
    const other = AuditLog.open(join(dir, 'other.jsonl'), ed25519AuditSigner(generateIdentity().secretKey)).append('round-completed', { round: 1 });
    const head = (e: AuditEntry, round: number) => ({ type: 'audit-head' as const, round, seq: e.seq, hash: e.hash, signature: e.sig });

    await expect(anchor.handle(head(other, 1))).rejects.toThrow("the audit head for round 1 is not signed by the coordinator's key");
    await anchor.handle(head(e1, 2));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'audit-countersign', round: 2, seq: 1, hash: e1.hash });
    // Going back to seq 0 after seq 1 was anchored: the coordinator rewinds its history.
    await expect(anchor.handle(head(e0, 1))).rejects.toThrow(/does not extend the head anchored before \(seq 1/);
    expect(sent).toHaveLength(1);
    expect(kept.map((k) => k.type)).toEqual(['audit-head-refused', 'audit-head', 'audit-head-refused']);
    real.close();
  });
});
