import { afterEach, describe, expect, it } from 'vitest';
import { startClient, type ClientEvent } from '../../src/client/clientNode.js';
import type { AuditTrail } from '../../src/coordinator/auditTrail.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { maxEncryptedStreamBytes } from '../../src/crypto/ckks/ckksSizes.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import type { StreamMeta } from '../../src/protocol/messages.js';
import type { Ack } from '../../src/protocol/socketLike.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { MaliciousCoordinator } from '../helpers/maliciousCoordinator.js';
import { rawHello } from '../helpers/rawHandshake.js';
import { ScriptedClient } from '../helpers/scriptedClient.js';
import { silent } from '../helpers/silentLogger.js';
import { connectRawSocket } from '../helpers/socketPair.js';

const fit = { epochs: 3, batchSize: 8, learningRate: 0.2 };

function trainer(i: number): LinearTrainer {
  const d = linearData(20 + 10 * i, i + 1);
  return new LinearTrainer(d.xs, d.ys, `h${i}`);
}

/** A node that says it holds 1e15 training rows: a weighted mean would give every other client a share of ~0. */
class InflatedTrainer extends LinearTrainer {
  override describe() {
    return { ...super.describe(), numTrainExamples: 1e15 };
  }
}

function memoryAudit(): AuditTrail & { events: { type: string; data: Readonly<Record<string, unknown>> }[] } {
  const events: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
  return { events, append: (type, data) => void events.push({ type, data }) };
}

let fed: TestFederation;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await fed?.close();
});

describe('claims a client makes about its data', () => {
  it('refuses an example count beyond 1e9 at hello (a node announcing one ends with the reason), and a result claiming more than announced', async () => {
    fed = new TestFederation();
    const audit = memoryAudit();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, minAvailableClients: 2, fractionEvaluate: 0, fit }), initialWeights: linearZeros(), rounds: 1, audit, logger: silent });

    // The announce side: the hello itself is refused, before any task could weigh the claim.
    const raw = await connectRawSocket(coordinator.url);
    cleanups.push(() => raw.disconnect());
    const ack = (await raw.timeout(5_000).emitWithAck('msg', rawHello('eve', { capabilities: { backend: 'js', numTrainExamples: 1e15, numTestExamples: 10, cohortVersion: '0.1.0' } }).message)) as Ack;
    expect(ack).toEqual({ ok: false, error: expect.stringMatching(/^malformed message: capabilities\.numTrainExamples: Too big: expected number to be <=1000000000/) });
    // A real node whose trainer announces it: refused for good, it ends (a retry would be refused again).
    const events: ClientEvent[] = [];
    const d = linearData(20, 9);
    const inflated = fed.client(coordinator.url, 'inflated', new InflatedTrainer(d.xs, d.ys, 'inflated'), { logger: silent, onEvent: (e) => void events.push(e) });
    await expect(inflated.done).rejects.toThrow(/^coordinator refused inflated: peer refused hello: malformed message: capabilities\.numTrainExamples: Too big/);
    expect(events.some((e) => e.type === 'retrying')).toBe(false);
    expect(coordinator.clients.map((c) => c.name)).toEqual([]);

    // The claim side: a client that announced 10 rows (rawHello) and claims 11 in its upload is refused.
    const liar = await ScriptedClient.connect(coordinator.url, 'liar', generateIdentity());
    cleanups.push(() => liar.close());
    liar.socket.on('msg', (m: { type?: string }) => void (m?.type === 'run-end' && liar.close()));
    fed.client(coordinator.url, 'h0', trainer(0), { logger: silent });
    const run = coordinator.run();
    const task = await liar.nextFit();
    await expect(liar.upload(task.meta, linearZeros(), { numExamples: 11 })).rejects.toThrow(/claims 11 training examples but announced 10/);
    const record = (await run).history[0]!;
    expect(record.fit.outcomes.find((o) => o.client === 'liar')!.failure).toEqual({ reason: 'refused', detail: 'claims 11 training examples but announced 10' });
    expect(record.fit.outcomes.find((o) => o.client === 'h0')!.failure).toBeUndefined();
    expect(audit.events.filter((e) => e.type === 'upload-accepted').map((e) => e.data.client)).toEqual(['h0']);
  });
  it("caps a client's weight: a node announcing more than the study's maxExamplesPerClient is refused for good, the others train", async () => {
    fed = new TestFederation();
    const audit = memoryAudit();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, minAvailableClients: 1, fractionEvaluate: 0, fit }), initialWeights: linearZeros(), rounds: 1, audit, logger: silent, maxExamplesPerClient: 25 });
    // 60 rows: within the protocol's bound, above this study's cap (a site that would outweigh the rest).
    const events: ClientEvent[] = [];
    const big = linearData(60, 7);
    const heavy = fed.client(coordinator.url, 'heavy', new LinearTrainer(big.xs, big.ys, 'heavy'), { logger: silent, onEvent: (e) => void events.push(e) });
    await expect(heavy.done).rejects.toThrow(/"heavy" announces 60 training examples, above this study's maxExamplesPerClient of 25/);
    expect(events.some((e) => e.type === 'retrying')).toBe(false);
    fed.client(coordinator.url, 'h0', trainer(0), { logger: silent });
    const record = (await coordinator.run()).history[0]!;
    expect(record.fit.outcomes.map((o) => o.client)).toEqual(['h0']);
  });
});

describe('what a client node accepts from its coordinator', () => {
  it('refuses a stream larger than the largest download its model can need, before any byte', async () => {
    const coordinator = await MaliciousCoordinator.start();
    cleanups.push(() => coordinator.close());
    const d = linearData(20, 3);
    const handle = startClient({ url: coordinator.url, name: 'h0', trainer: new LinearTrainer(d.xs, d.ys, 'h0'), coordinatorKey: coordinator.identity.publicKey, logger: silent });
    cleanups.push(() => handle.stop());
    const victim = await coordinator.victim('h0');
    const meta: StreamMeta = { kind: 'fit', round: 1, taskId: 'task-1', config: { round: 1, ...fit } };
    let refusal = '';
    await victim.peer.sendStream(meta, 100_000_000, []).catch((e: Error) => void (refusal = e.message));
    const limit = Number(/^peer refused the fit stream: stream of 100000000 bytes exceeds the limit of (\d+) bytes$/.exec(refusal)?.[1]);
    // Room for the largest payload any mode sends this 3-parameter model (an encrypted global with momentum and
    // log C: 7 values, one ciphertext), far below the transport's default of 2 GiB.
    expect(limit).toBeGreaterThanOrEqual(maxEncryptedStreamBytes(2 * 3 + 1));
    expect(limit).toBeLessThan(1 << 20);
  });
});
