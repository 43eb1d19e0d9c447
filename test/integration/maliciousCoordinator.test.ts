import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startClient, type ClientHandle } from '../../src/client/clientNode.js';
import type { ClientSecurityPolicy } from '../../src/client/security/securityPolicy.js';
import { generateAgreementKey, signAgreementKey } from '../../src/crypto/agreementKey.js';
import { sealKeyBox } from '../../src/crypto/ckks/keyBox.js';
import { generateIdentity, type Identity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import { encryptedExtras, type EncryptedInstructions } from '../../src/protocol/encryptedInstructions.js';
import type { StreamMeta } from '../../src/protocol/messages.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { MaliciousCoordinator, type Victim } from '../helpers/maliciousCoordinator.js';
import { silent } from '../helpers/silentLogger.js';
import { waitUntil } from '../helpers/waitUntil.js';

/**
 * A coordinator that the clients pin (its key is the right one) but that deviates from the protocol to read
 * an update: every attempt must be refused by an unmodified client, from the client's own config alone, and
 * written to that client's audit log.
 */
const NAMES = ['h0', 'h1', 'h2'] as const;
const policyFloor = { minNoiseMultiplier: 1, maxClipNorm: 1 };

let coordinator: MaliciousCoordinator;
let identities: Record<string, Identity>;
let audits: Record<string, { type: string; data: Readonly<Record<string, unknown>> }[]>;
let handles: ClientHandle[];
const attacker = generateIdentity();

function auditOf(name: string, type: string) {
  return audits[name]!.filter((e) => e.type === type);
}

beforeEach(async () => {
  coordinator = await MaliciousCoordinator.start();
  identities = Object.fromEntries(NAMES.map((n) => [n, generateIdentity()]));
  audits = Object.fromEntries(NAMES.map((n) => [n, []]));
  const roster = NAMES.map((n) => ({ name: n, identityKey: identities[n]!.publicKey }));
  const security: ClientSecurityPolicy = { mode: 'ckks', roster, ...policyFloor };
  handles = NAMES.map((name, i) => {
    const d = linearData(20, i + 3);
    return startClient({
      url: coordinator.url,
      name,
      trainer: new LinearTrainer(d.xs, d.ys, name),
      identity: identities[name]!,
      coordinatorKey: coordinator.identity.publicKey,
      security,
      logger: silent,
      audit: { append: (type, data) => void audits[name]!.push({ type, data }) },
    });
  });
  for (const n of NAMES) await coordinator.victim(n);
});

afterEach(async () => {
  await Promise.all(handles.map((h) => h.stop()));
  await coordinator.close();
});

/** A recipient entry as the coordinator relays it: name, identity key, agreement key and its signature. */
function recipient(v: Victim) {
  return { name: v.name, identityKey: encodeBase64(v.identityKey), agreementKey: v.agreementKey.publicKey, agreementSignature: v.agreementKey.signature };
}

/** A recipient the attacker controls, with a valid agreement key signed by the attacker's identity for this run. */
function forgedRecipient(name: string) {
  const agreement = generateAgreementKey();
  const signed = signAgreementKey(attacker, agreement.publicKey, coordinator.runId);
  return { entry: { name, identityKey: encodeBase64(attacker.publicKey), agreementKey: encodeBase64(signed.publicKey), agreementSignature: encodeBase64(signed.signature) }, agreement };
}

/** The honest dealer h0 generates the key and boxes it for h1; h1 opens it. */
async function dealHonestly(): Promise<void> {
  const [h0, h1] = [await coordinator.victim('h0'), await coordinator.victim('h1')];
  h0.peer.notify({ type: 'ckks-deal', generate: true, epoch: 1, recipients: [recipient(h1)] });
  const boxes = await h0.next('ckks-boxes');
  h1.peer.notify({ type: 'ckks-key', dealer: 'h0', epoch: 1, dealerIdentityKey: encodeBase64(h0.identityKey), dealerAgreementKey: h0.agreementKey.publicKey, dealerAgreementSignature: h0.agreementKey.signature, keyBox: boxes.boxes[0]! });
  await waitUntil(() => auditOf('h1', 'ckks-key-received').length === 1, 'h1 to take the honest key');
}

function fitMeta(extra: Record<string, number> | undefined, taskId = randomUUID()): StreamMeta {
  return { kind: 'fit', round: 1, taskId, config: { round: 1, epochs: 1, batchSize: 8, learningRate: 0.1, ...(extra ? { extra } : {}) } };
}

function ckksTask(overrides: Partial<EncryptedInstructions> = {}): StreamMeta {
  const honest: EncryptedInstructions = { weight: 1 / 3, cohortSize: 3, serverLearningRate: 1, serverMomentum: 0, dp: { clipNorm: 1, noiseShare: 1.2 / Math.sqrt(3) } };
  return fitMeta(encryptedExtras({ ...honest, ...overrides }));
}

describe('a malicious coordinator against clients that pin a roster and a policy', () => {
  it('(a) names Sybil and impersonated recipients: the dealer boxes the key for roster members only', async () => {
    const [h0, h1] = [await coordinator.victim('h0'), await coordinator.victim('h1')];
    const sybil = forgedRecipient('sybil');
    const impostor = forgedRecipient('h2'); // a roster name with the attacker's identity key
    h0.peer.notify({ type: 'ckks-deal', generate: true, epoch: 1, recipients: [recipient(h1), sybil.entry, impostor.entry] });
    const reply = await h0.next('ckks-boxes');
    expect(reply.boxes.map((b) => b.recipient)).toEqual(['h1']);
    expect(reply.refused?.map((r) => r.recipient)).toEqual(['sybil', 'h2']);
    const refusals = auditOf('h0', 'ckks-key-box-refused');
    expect(refusals.map((r) => r.data.recipient)).toEqual(['sybil', 'h2']);
    expect(refusals[0]!.data.reason).toMatch(/"sybil" is not on this node's federation roster/);
    expect(refusals[1]!.data.reason).toMatch(/the key offered for "h2" .* is not the one the roster lists/);
  });

  it('(b) poses as the dealer or asks a non-dealer to generate: no client takes or makes a key', async () => {
    const h1 = await coordinator.victim('h1');
    // A key the coordinator generated, boxed under its own identity but claiming to come from the dealer h0.
    const fake = forgedRecipient('h0');
    const h1Agreement = new Uint8Array(Buffer.from(h1.agreementKey.publicKey, 'base64'));
    const box = sealKeyBox(new Uint8Array(64).fill(7), { name: 'h1', identityKey: h1.identityKey, agreementKey: h1Agreement }, { name: 'h0', identity: attacker, agreement: fake.agreement }, { runId: coordinator.runId, epoch: 1 });
    const keyBox = { recipient: 'h1', nonce: encodeBase64(box.nonce), box: encodeBase64(box.box), signature: encodeBase64(box.signature) };
    h1.peer.notify({ type: 'ckks-key', dealer: 'h0', epoch: 1, dealerIdentityKey: fake.entry.identityKey, dealerAgreementKey: fake.entry.agreementKey, dealerAgreementSignature: fake.entry.agreementSignature, keyBox });
    const outsider = forgedRecipient('mallory');
    h1.peer.notify({ type: 'ckks-key', dealer: 'mallory', epoch: 1, dealerIdentityKey: outsider.entry.identityKey, dealerAgreementKey: outsider.entry.agreementKey, dealerAgreementSignature: outsider.entry.agreementSignature, keyBox });
    h1.peer.notify({ type: 'ckks-deal', generate: true, epoch: 1, recipients: [] });
    await waitUntil(() => auditOf('h1', 'ckks-key-refused').length === 2 && auditOf('h1', 'ckks-deal-refused').length === 1, 'h1 to refuse all three');
    const [posed, outside] = auditOf('h1', 'ckks-key-refused').map((e) => String(e.data.reason));
    expect(posed).toMatch(/the key offered for "h0" .* is not the one the roster lists/);
    expect(outside).toMatch(/"mallory" is not on this node's federation roster/);
    expect(auditOf('h1', 'ckks-deal-refused')[0]!.data.reason).toMatch(/roster names h0 as the dealer/);
    expect(auditOf('h1', 'ckks-key-received')).toEqual([]);
  });

  it('(c) sends plaintext fit and evaluate tasks and asks for feature statistics: all refused', async () => {
    const h1 = await coordinator.victim('h1');
    const plainFit = await coordinator.task(h1, fitMeta(undefined), linearZeros());
    expect(plainFit).toMatch(/requires secure aggregation ckks, and the coordinator sent a plaintext fit task/);
    const plainEvaluate = await coordinator.task(h1, { kind: 'evaluate', round: 1, taskId: randomUUID(), config: { round: 1, batchSize: 8 } }, linearZeros());
    expect(plainEvaluate).toMatch(/plaintext evaluate task/);
    h1.peer.notify({ type: 'statistics-request', taskId: 'stats-1' });
    const failure = await h1.next('statistics-failure');
    expect(failure.reason).toMatch(/does not let feature statistics leave/);
    expect(auditOf('h1', 'task-refused').map((e) => e.data.kind)).toEqual(['fit', 'evaluate', 'statistics']);
    expect(auditOf('h1', 'upload-sent')).toEqual([]);
  });

  it('re-keys mid-run: a client never replaces the key it holds, and the dealer never makes a second one', async () => {
    await dealHonestly();
    const [h0, h1] = [await coordinator.victim('h0'), await coordinator.victim('h1')];
    h0.peer.notify({ type: 'ckks-deal', generate: true, epoch: 1, recipients: [] });
    h0.peer.notify({ type: 'ckks-deal', generate: false, epoch: 2, recipients: [recipient(h1)] });
    await waitUntil(() => auditOf('h0', 'ckks-deal-refused').length === 2, 'h0 to refuse to re-key');
    expect(auditOf('h0', 'ckks-deal-refused').map((e) => String(e.data.reason))).toEqual([
      expect.stringMatching(/already holds a CKKS key for the run: it generates none/),
      expect.stringMatching(/asked to share key epoch 2; this client holds epoch 1/),
    ]);
    // Even a genuine box from the dealer does not replace the key h1 holds.
    h0.peer.notify({ type: 'ckks-deal', generate: false, epoch: 1, recipients: [recipient(h1)] });
    const again = await h0.next('ckks-boxes');
    h1.peer.notify({ type: 'ckks-key', dealer: 'h0', epoch: 1, dealerIdentityKey: encodeBase64(h0.identityKey), dealerAgreementKey: h0.agreementKey.publicKey, dealerAgreementSignature: h0.agreementKey.signature, keyBox: again.boxes[0]! });
    await waitUntil(() => auditOf('h1', 'ckks-key-refused').length === 1, 'h1 to refuse the re-key');
    expect(auditOf('h1', 'ckks-key-refused')[0]!.data.reason).toMatch(/already holds the run's CKKS key .* is refused/);
  });

  it('downgrades the DP terms: weaker noise, a larger weight, a cohort beyond the roster, a larger clip norm, no noise; the honest terms pass', async () => {
    await dealHonestly();
    const h1 = await coordinator.victim('h1');
    const attempts: [string, StreamMeta, RegExp][] = [
      ['noise', ckksTask({ dp: { clipNorm: 1, noiseShare: 0.5 / Math.sqrt(3) } }), /noise multiplier is 0\.5000 .* below this node's minimum 1/],
      ['weight', ckksTask({ weight: 1 }), /every client must weigh 1\/3, and the task gives this node 1/],
      ['cohort', ckksTask({ cohortSize: 30, weight: 1 / 30, dp: { clipNorm: 1, noiseShare: 1.2 / Math.sqrt(30) } }), /cohort of 30 clients, more than the 3 on this node's roster/],
      ['clip', ckksTask({ dp: { clipNorm: 5, noiseShare: 1.2 / Math.sqrt(3) } }), /clips to 5, above this node's maximum clip norm 1/],
      ['no noise', fitMeta(encryptedExtras({ weight: 1 / 3, cohortSize: 3, serverLearningRate: 1, serverMomentum: 0 })), /adds no DP noise/],
    ];
    for (const [what, meta, reason] of attempts) expect(await coordinator.task(h1, meta, linearZeros()), what).toMatch(reason);
    expect(auditOf('h1', 'task-refused')).toHaveLength(attempts.length);
    // The control: the same client takes honest terms, trains, and uploads ciphertexts.
    expect(await coordinator.task(h1, ckksTask(), linearZeros())).toBeUndefined();
    await waitUntil(() => h1.uploads.length === 1, 'h1 to upload under the honest terms', 15_000);
    expect(h1.uploads[0]!.meta).toMatchObject({ kind: 'fit-result', encrypted: true });
    expect(auditOf('h1', 'upload-sent')).toHaveLength(1);
  });

  it('sends a task whose steps conflict (SCAFFOLD under CKKS): refused before any byte, and audited', async () => {
    const h1 = await coordinator.victim('h1');
    const meta = ckksTask();
    const scaffold = { ...meta, config: { ...(meta as Extract<StreamMeta, { kind: 'fit' }>).config, extra: { ...(meta as Extract<StreamMeta, { kind: 'fit' }>).config.extra, scaffold: true } } } as StreamMeta;
    expect(await coordinator.task(h1, scaffold, linearZeros())).toMatch(/control variates \(SCAFFOLD\) cannot run with secure aggregation ckks/);
    expect(auditOf('h1', 'task-refused').map((e) => e.data.reason)).toEqual([expect.stringMatching(/cannot run with secure aggregation ckks/)]);
  });

  it('injects downloads: unsigned, signed by another key, or replayed tasks are refused', async () => {
    await dealHonestly();
    const h1 = await coordinator.victim('h1');
    expect(await coordinator.task(h1, ckksTask(), linearZeros(), null)).toMatch(/download is not signed by the coordinator's key/);
    expect(await coordinator.task(h1, ckksTask(), linearZeros(), attacker.secretKey)).toMatch(/download is not signed by the coordinator's key/);
    const replayed = ckksTask();
    expect(await coordinator.task(h1, replayed, linearZeros())).toBeUndefined();
    expect(await coordinator.task(h1, replayed, linearZeros())).toMatch(/already received in this run \(a replay\)/);
    expect(auditOf('h1', 'download-refused')).toHaveLength(2);
  });
});
