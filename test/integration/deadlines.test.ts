import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import type { StreamMetaOf } from '../../src/protocol/messages.js';
import type { Ack } from '../../src/protocol/socketLike.js';
import { encodeWeights } from '../../src/protocol/tensorCodec.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { ScriptedClient } from '../helpers/scriptedClient.js';
import { silent } from '../helpers/silentLogger.js';

const fit = { epochs: 3, batchSize: 8, learningRate: 0.2 };

function trainer(i: number): LinearTrainer {
  const d = linearData(20 + 10 * i, i + 1);
  return new LinearTrainer(d.xs, d.ys, `h${i}`);
}

let fed: TestFederation;
const scripted: ScriptedClient[] = [];
afterEach(async () => {
  for (const s of scripted.splice(0)) s.close();
  await fed.close();
});

/** A scripted client that hangs up when the run ends, as a node does (the coordinator waits for that). */
async function scriptedClient(url: string, name: string): Promise<ScriptedClient> {
  const client = await ScriptedClient.connect(url, name, generateIdentity());
  client.socket.on('msg', (m: { type?: string }) => void (m?.type === 'run-end' && client.close()));
  scripted.push(client);
  return client;
}

async function emit(client: ScriptedClient, event: string, ...args: unknown[]): Promise<Ack> {
  return (await client.socket.timeout(5_000).emitWithAck(event, ...args)) as Ack;
}

/** The fit-result header an honest client would send for `task`, and the payload it announces. */
function uploadFor(task: StreamMetaOf<'fit'>) {
  const payload = encodeWeights(linearZeros());
  return { payload, meta: { kind: 'fit-result', round: task.round, taskId: task.taskId, numExamples: 10, metrics: { loss: 0.5 } } };
}

describe('round deadlines that hold against stalling and refused uploads', () => {
  it('aborts an upload whose bytes stop (socket open) at the inactivity timeout, frees its aggregation slot, and skips it in the evaluation', async () => {
    fed = new TestFederation();
    const roundTimeoutMs = 20_000;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 1, minAvailableClients: 3, fit }),
      initialWeights: linearZeros(),
      rounds: 1,
      roundTimeoutMs,
      maxRoundRetries: 0,
      transfer: { streamIdleTimeoutMs: 300 },
      logger: silent,
    });
    // Two stallers take both of the streaming mean's aggregation slots before the honest client uploads.
    const stallers = await Promise.all(['s1', 's2'].map((n) => scriptedClient(coordinator.url, n)));
    let slotsTaken!: () => void;
    const held = new Promise<void>((r) => (slotsTaken = r));
    const honest = trainer(0);
    honest.beforeFit = () => held;
    fed.client(coordinator.url, 'h0', honest, { logger: silent });
    const run = coordinator.run();
    await Promise.all(
      stallers.map(async (s) => {
        const task = await s.nextFit();
        const { payload, meta } = uploadFor(task.meta);
        const id = randomUUID();
        expect(await emit(s, 'stream:begin', { id, meta, totalBytes: payload.length })).toEqual({ ok: true });
        expect(await emit(s, 'stream:chunk', id, 0, payload.subarray(0, payload.length >> 1))).toEqual({ ok: true });
        // ...and then nothing more: the socket stays open.
      }),
    );
    slotsTaken();

    const result = await run;
    const record = result.history[0]!;
    const byClient = Object.fromEntries(record.fit.outcomes.map((o) => [o.client, o]));
    expect(byClient.h0!.failure).toBeUndefined();
    for (const s of ['s1', 's2']) {
      expect(byClient[s]!.failure).toEqual({ reason: 'timeout', detail: expect.stringMatching(/^upload stalled: no bytes for 300 ms: the stream stalled after 4\d of \d+ bytes$/) });
    }
    // The evaluation asks only the client that answered; the stallers are not waited on a second time.
    expect(record.evaluate!.outcomes.map((o) => o.client)).toEqual(['h0']);
    // The round is over long before its (fit) deadline, not at one or two deadlines.
    expect(record.durationMs).toBeLessThan(roundTimeoutMs);
  });

  it('fails a task at once when its upload header is refused (oversized, another round, malformed)', async () => {
    fed = new TestFederation();
    const roundTimeoutMs = 20_000;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 1, minAvailableClients: 4, fractionEvaluate: 0, fit }),
      initialWeights: linearZeros(),
      rounds: 1,
      roundTimeoutMs,
      maxRoundRetries: 0,
      logger: silent,
    });
    const faulty = await Promise.all(['big', 'late', 'bad'].map((n) => scriptedClient(coordinator.url, n)));
    fed.client(coordinator.url, 'h0', trainer(0), { logger: silent });
    const run = coordinator.run();
    const refusals = await Promise.all(
      faulty.map(async (s) => {
        const task = await s.nextFit();
        const { payload, meta } = uploadFor(task.meta);
        const header =
          s.name === 'big' ? { id: 'u', meta, totalBytes: 10_000_000 }
          : s.name === 'late' ? { id: 'u', meta: { ...meta, round: meta.round + 1 }, totalBytes: payload.length }
          : { id: 'u', meta: { ...meta, numExamples: -1 }, totalBytes: payload.length };
        const ack = await emit(s, 'stream:begin', header);
        return ack.ok ? '' : ack.error;
      }),
    );
    expect(refusals[0]).toMatch(/^stream of 10000000 bytes exceeds the limit of \d+ bytes$/);
    expect(refusals[1]).toMatch(/^stale or unknown fit task .* \(round 2\)$/);
    expect(refusals[2]).toMatch(/^malformed stream header: numExamples: /);

    const record = (await run).history[0]!;
    const byClient = Object.fromEntries(record.fit.outcomes.map((o) => [o.client, o]));
    expect(byClient.h0!.failure).toBeUndefined();
    faulty.forEach((s, i) => expect(byClient[s.name]!.failure).toEqual({ reason: 'refused', detail: `answer refused: ${refusals[i]}` }));
    expect(record.durationMs).toBeLessThan(roundTimeoutMs);
  });

  it('does not wait in the evaluation on a client whose fit ran past the deadline', async () => {
    fed = new TestFederation();
    const roundTimeoutMs = 3_000;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 1, minAvailableClients: 2, fit }),
      initialWeights: linearZeros(),
      rounds: 1,
      roundTimeoutMs,
      maxRoundRetries: 0,
      logger: silent,
    });
    // Takes its fit task and never answers anything (no upload, no failure), its socket open.
    await scriptedClient(coordinator.url, 'quiet');
    fed.client(coordinator.url, 'h0', trainer(0), { logger: silent });
    const record = (await coordinator.run()).history[0]!;
    expect(record.fit.outcomes.find((o) => o.client === 'quiet')!.failure!.reason).toBe('timeout');
    expect(record.evaluate!.outcomes.map((o) => o.client)).toEqual(['h0']);
    // One deadline (the fit phase's) bounds the round, not two.
    expect(record.evaluate!.durationMs).toBeLessThan(roundTimeoutMs);
    expect(record.durationMs).toBeLessThan(2 * roundTimeoutMs);
  });

  it('gives the evaluation only what the fit phase left of the round deadline: a client that never evaluates holds the round 1.1 deadlines at most', async () => {
    fed = new TestFederation();
    const roundTimeoutMs = 4_000;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 2, fit }),
      initialWeights: linearZeros(),
      rounds: 1,
      roundTimeoutMs,
      maxRoundRetries: 0,
      logger: silent,
    });
    // Uploads an honest update after 2 s, then never answers its evaluation task (its socket open).
    const mute = await scriptedClient(coordinator.url, 'mute');
    fed.client(coordinator.url, 'h0', trainer(0), { logger: silent });
    const run = coordinator.run();
    const task = await mute.nextFit();
    await new Promise((r) => setTimeout(r, 2_000));
    await mute.upload(task.meta, linearZeros());
    const record = (await run).history[0]!;
    expect(record.fit.outcomes.every((o) => !o.failure)).toBe(true);
    const muted = record.evaluate!.outcomes.find((o) => o.client === 'mute')!;
    expect(muted.failure).toMatchObject({ reason: 'timeout', detail: expect.stringMatching(/^no evaluate result within the deadline of [12] s$/) });
    // Both phases together stay within the round's deadline (and the tenth kept for evaluation), not fit + a whole deadline.
    expect(record.durationMs).toBeLessThan(1.1 * roundTimeoutMs + 500);
  });
});
