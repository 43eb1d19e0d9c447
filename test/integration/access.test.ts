import { silent } from '../helpers/silentLogger.js';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessList, type AllowedPeer } from '../../src/coordinator/accessList.js';
import type { AuditTrail } from '../../src/coordinator/auditTrail.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import type { ClientEvent } from '../../src/client/clientNode.js';
import { generateIdentity, keyFingerprint, type Identity } from '../../src/crypto/identity.js';
import type { Ack } from '../../src/protocol/socketLike.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { rawHandshake, rawHello } from '../helpers/rawHandshake.js';
import { ScriptedClient } from '../helpers/scriptedClient.js';
import { connectRawSocket, disconnected } from '../helpers/socketPair.js';
import { waitUntil } from '../helpers/waitUntil.js';

const fit = { epochs: 3, batchSize: 8, learningRate: 0.2 };
const zeros = linearZeros;

function memoryAudit(): AuditTrail & { events: { type: string; data: Readonly<Record<string, unknown>> }[] } {
  const events: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
  return { events, append: (type, data) => void events.push({ type, data }) };
}

function trainer(i: number): LinearTrainer {
  const d = linearData(20 + 10 * i, i + 1);
  return new LinearTrainer(d.xs, d.ys, `h${i}`);
}

let fed: TestFederation;
afterEach(async () => fed.close());

describe('access control', () => {
  const keys: Record<string, Identity> = { h0: generateIdentity(), h1: generateIdentity(), h2: generateIdentity(), mallory: generateIdentity() };
  const allow = (...names: string[]): AllowedPeer[] => names.map((name) => ({ name, publicKey: keys[name]!.publicKey, role: 'client' as const }));

  it('admits listed clients, refuses an unknown key and a wrong key for a listed name, and keeps serving', async () => {
    fed = new TestFederation();
    const audit = memoryAudit();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 2, fit }), initialWeights: zeros(), rounds: 2, access: AccessList.of(allow('h0', 'h1')), audit, logger: silent });
    for (const i of [0, 1]) fed.client(coordinator.url, `h${i}`, trainer(i), { identity: keys[`h${i}`]!, coordinatorKey: coordinator.identity.publicKey, logger: silent });
    const run = coordinator.run();

    const stranger = await connectRawSocket(coordinator.url);
    const strangerGone = disconnected(stranger);
    const unknown = (await rawHandshake(stranger, rawHello('eve'))).ack as Extract<Ack, { ok: false }>;
    expect(unknown.error).toMatch(/^unknown client "eve" \(key [0-9a-f]{16}\): not in the coordinator's access list$/);
    await strangerGone;

    const impersonator = await connectRawSocket(coordinator.url);
    const wrongKey = (await rawHandshake(impersonator, rawHello('h1', {}, keys.mallory))).ack as Extract<Ack, { ok: false }>;
    expect(wrongKey.error).toBe(`key ${keyFingerprint(keys.mallory!.publicKey)} is not the key the access list holds for "h1" (${keyFingerprint(keys.h1!.publicKey)})`);
    impersonator.disconnect();

    const result = await run;
    expect(result.history.every((r) => r.fit.outcomes.filter((o) => !o.failure).length === 2)).toBe(true);
    // Refusals before login are audited as counted summaries (one signed entry per interval, not one each).
    const summaries = audit.events.filter((e) => e.type === 'refusals');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.data).toMatchObject({ total: 2, kinds: { 'auth-failed': 2 }, addresses: [{ address: '127.0.0.1', count: 2 }] });
    expect((summaries[0]!.data.reasons as { reason: string }[]).map((r) => r.reason).sort()).toEqual([unknown.error, wrongKey.error].sort());
    expect(audit.events.filter((e) => e.type === 'auth-failed')).toEqual([]);
    expect(audit.events.filter((e) => e.type === 'client-connected').map((e) => e.data.client).sort()).toEqual(['h0', 'h1']);
    // 2 rounds x 2 clients' fit results, each signed and recorded with its payload hash.
    expect(audit.events.filter((e) => e.type === 'upload-accepted')).toHaveLength(4);
  });

  it('names the listed clients that never connected when the wait for them runs out', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 3, fit }),
      initialWeights: zeros(),
      rounds: 1,
      access: AccessList.of(allow('h0', 'h1', 'h2')),
      waitForClientsMs: 1_500,
      logger: silent,
    });
    for (const i of [0, 2]) fed.client(coordinator.url, `h${i}`, trainer(i), { identity: keys[`h${i}`]!, coordinatorKey: coordinator.identity.publicKey, logger: silent });
    await expect(coordinator.run()).rejects.toThrow(/^round 1: only 2 of the 3 required clients connected within 2 s; not connected: h1$/);
  });

  it('refuses a handshake signed with another key (a forged signature)', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, access: AccessList.of(allow('h0')), logger: silent });
    const socket = await connectRawSocket(coordinator.url);
    const gone = disconnected(socket);
    const { ack } = await rawHandshake(socket, rawHello('h0', {}, keys.h0), keys.mallory);
    expect(ack).toEqual({ ok: false, error: `forged handshake: the signature does not verify with the key of "h0" (${keyFingerprint(keys.h0!.publicKey)})` });
    await gone;
    expect(coordinator.clients).toHaveLength(0);
  });

  it('makes a client refuse a coordinator whose key is not the pinned one', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, logger: silent });
    const pinned = generateIdentity().publicKey;
    const handle = fed.client(coordinator.url, 'h0', trainer(0), { coordinatorKey: pinned, logger: silent });
    await expect(handle.done).rejects.toThrow(
      `coordinator refused h0: the coordinator presented key ${keyFingerprint(coordinator.identity.publicKey)}, not the pinned ${keyFingerprint(pinned)}`,
    );
    expect(coordinator.clients).toHaveLength(0);
  });

  it('refuses uploads signed by another key, for another task, or replayed, and counts only honest ones', async () => {
    fed = new TestFederation();
    const audit = memoryAudit();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 1, minAvailableClients: 2, fit }),
      initialWeights: zeros(),
      rounds: 2,
      roundTimeoutMs: 3_000,
      access: AccessList.of(allow('h0', 'mallory')),
      audit,
      logger: silent,
    });
    fed.client(coordinator.url, 'h0', trainer(0), { identity: keys.h0!, logger: silent });
    const mallory = await ScriptedClient.connect(coordinator.url, 'mallory', keys.mallory!);
    const run = coordinator.run();
    const delta: Weights = [
      { name: 'w', shape: [2], data: Float32Array.of(100, 100) },
      { name: 'b', shape: [1], data: Float32Array.of(100) },
    ];

    const round1 = await mallory.nextFit();
    // Signed with h0's key: not mallory's signature.
    await expect(mallory.upload(round1.meta, delta, { signer: keys.h0! })).rejects.toThrow(/fit-result for round 1 is not signed by mallory's key/);
    const round2 = await mallory.nextFit();
    // A valid signature made for round 1's task, presented for round 2's task.
    await expect(mallory.upload(round2.meta, delta, { signedFor: { round: 1, taskId: round1.meta.taskId } })).rejects.toThrow(/is not signed by mallory's key/);
    // Replaying a task that is over: refused as stale before any byte is read.
    await expect(mallory.upload(round1.meta, delta)).rejects.toThrow(/stale or unknown fit task/);
    const result = await run;
    mallory.close();

    for (const r of result.history) {
      const m = r.fit.outcomes.find((o) => o.client === 'mallory')!;
      expect(m.failure?.reason).toBe('refused');
    }
    // The forged 100s never reached the model.
    expect(Math.abs(result.weights[0]!.data[0]!)).toBeLessThan(5);
    expect(audit.events.filter((e) => e.type === 'upload-refused').map((e) => e.data.client)).toEqual(['mallory', 'mallory']);
  });

  it('cuts off a client revoked mid-run and finishes the run with the others', async () => {
    fed = new TestFederation();
    const audit = memoryAudit();
    let revoked: boolean | undefined;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 2, fit }),
      initialWeights: zeros(),
      rounds: 3,
      access: AccessList.of(allow('h0', 'h1', 'h2')),
      audit,
      logger: silent,
      onRound: (r) => {
        if (r.round === 1) revoked = coordinator.revoke('h2', 'revoked by the study admin');
      },
    });
    const handles = [0, 1, 2].map((i) => fed.client(coordinator.url, `h${i}`, trainer(i), { identity: keys[`h${i}`]!, logger: silent }));
    while (coordinator.clients.length < 3) await new Promise((r) => setTimeout(r, 10));
    const result = await coordinator.run();
    expect(revoked).toBe(true);
    await expect(handles[2]!.done).rejects.toThrow('coordinator refused h2: revoked by the study admin');
    expect(result.history[0]!.fit.outcomes.filter((o) => !o.failure)).toHaveLength(3);
    for (const r of result.history.slice(1)) expect(r.fit.outcomes.map((o) => o.client).sort()).toEqual(['h0', 'h1']);
    expect(audit.events.some((e) => e.type === 'client-revoked' && e.data.client === 'h2')).toBe(true);
  });

  it('limits connection attempts per address', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, maxConnectionsPerMinute: 3, logger: silent });
    const sockets = [];
    for (let i = 0; i < 3; i++) sockets.push(await connectRawSocket(coordinator.url));
    // Listen before connecting: the refusal comes with the connection itself.
    const fourth = io(coordinator.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    const refusal = await new Promise<{ reason: string; retryAfterMs: number }>((resolve) => fourth.on('msg', resolve));
    expect(refusal.reason).toMatch(/too many connection attempts from .* \(limit 3 a minute\)/);
    // Transient: the refusal says when the window frees up.
    expect(refusal.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(refusal.retryAfterMs).toBeLessThanOrEqual(60_000);
    await disconnected(fourth);
    expect(coordinator.refusals).toBe(1);
    for (const s of [...sockets, fourth]) s.disconnect();
  });

  it('tells a refusal for load (retried, after at least the advised delay) from a refusal for good (ends, no retry)', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, maxPendingHandshakes: 1, access: AccessList.of(allow('h0')), logger: silent });
    const squatter = await connectRawSocket(coordinator.url); // holds the only handshake slot, saying nothing
    const events: ClientEvent[] = [];
    const handle = fed.client(coordinator.url, 'h0', trainer(0), { identity: keys.h0!, logger: silent, onEvent: (e) => void events.push(e) });
    await waitUntil(() => events.some((e) => e.type === 'retrying'), 'a retry announced');
    expect(coordinator.clients).toHaveLength(0);
    // The limiter advises 2 s for a full handshake table; the node's own backoff (100 ms here) does not cut it short.
    const retry = events.find((e) => e.type === 'retrying') as Extract<ClientEvent, { type: 'retrying' }>;
    expect(retry).toMatchObject({ cause: 'busy', reason: 'too many handshakes in progress (limit 1)' });
    expect(retry.delayMs).toBeGreaterThanOrEqual(2_000);
    expect(retry.delayMs).toBeLessThanOrEqual(3_000);
    squatter.disconnect();
    const run = coordinator.run(); // h0 retries after the advised delay and trains

    // Negative control: a node the access list does not name is told so and ends; it never schedules a retry.
    const eveEvents: ClientEvent[] = [];
    const eve = fed.client(coordinator.url, 'eve', trainer(1), { identity: keys.mallory!, logger: silent, onEvent: (e) => void eveEvents.push(e) });
    await expect(eve.done).rejects.toThrow(/^coordinator refused eve: unknown client "eve"/);

    const result = await run;
    expect(result.history[0]!.fit.outcomes.map((o) => o.client)).toEqual(['h0']);
    expect(events.map((e) => e.type)).not.toContain('refused');
    await handle.done;
    // Long after three of eve's backoff periods (100 ms): a retry would have been scheduled by now.
    expect(eveEvents.map((e) => e.type).filter((t) => t !== 'connected' && t !== 'disconnected')).toEqual(['refused']);
  });
});
