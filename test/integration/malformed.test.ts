import { silent } from '../helpers/silentLogger.js';
import { createHash } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import type { Ack } from '../../src/protocol/socketLike.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';
import { rawHandshake, rawHello } from '../helpers/rawHandshake.js';
import { connectRawSocket, disconnected } from '../helpers/socketPair.js';

const fit = { epochs: 3, batchSize: 8, learningRate: 0.2 };

const zeros = linearZeros;

function hello(overrides: Record<string, unknown> = {}) {
  return rawHello('mallory', overrides).message;
}

async function emit(socket: Socket, event: string, ...args: unknown[]): Promise<Ack> {
  return (await socket.timeout(5_000).emitWithAck(event, ...args)) as Ack;
}

function errorOf(ack: Ack): string {
  expect(ack.ok).toBe(false);
  return ack.ok ? '' : ack.error;
}

/** The next control message of `type` the coordinator sends on this socket. */
function nextMessage(socket: Socket, type: string): Promise<{ type: string; reason?: string }> {
  return new Promise((resolve) => {
    const listener = (m: { type: string; reason?: string }) => {
      if (m?.type !== type) return;
      socket.off('msg', listener);
      resolve(m);
    };
    socket.on('msg', listener);
  });
}

let fed: TestFederation;
const attackers: Socket[] = [];
afterEach(async () => {
  for (const s of attackers.splice(0)) s.disconnect();
  await fed.close();
});

async function attacker(url: string): Promise<Socket> {
  const s = await connectRawSocket(url);
  attackers.push(s);
  return s;
}

describe('a coordinator under malformed and hostile input', () => {
  it('refuses each bad message with a clear error, counts it, and still completes its rounds with the legit clients', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 2, fit }), initialWeights: zeros(), rounds: 2, logger: silent });
    let expectedRefusals = 0;
    const refused = (ack: Ack) => {
      expectedRefusals++;
      return errorOf(ack);
    };

    // ---- phase 1: a client that joins properly, then sends results for tasks it was never given ----
    const mallory = await attacker(coordinator.url);
    const welcome = nextMessage(mallory, 'welcome');
    expect((await rawHandshake(mallory, rawHello('mallory'))).ack).toEqual({ ok: true });
    await welcome;
    const fakeTask = { kind: 'fit-result', round: 1, taskId: 'no-such-task', numExamples: 5, metrics: {} };
    expect(refused(await emit(mallory, 'stream:begin', { id: 'upload-1', meta: fakeTask, totalBytes: 100 }))).toBe('stale or unknown fit task no-such-task (round 1)');
    expect(refused(await emit(mallory, 'stream:chunk', 'upload-1', 0, new Uint8Array(100)))).toBe('chunk for an unknown stream');
    expect(refused(await emit(mallory, 'stream:end', { id: 'upload-1', sha256: createHash('sha256').digest('hex') }))).toBe('end of an unknown stream');
    const fakeEval = { type: 'evaluate-result', round: 1, taskId: 'no-such-task', numExamples: 3, loss: 0, metrics: {}, signature: Buffer.alloc(64).toString('base64') };
    expect(refused(await emit(mallory, 'msg', fakeEval))).toBe('no open evaluate task no-such-task for round 1');
    expect(refused(await emit(mallory, 'msg', hello()))).toBe('a client may not send "hello" now');
    expect(refused(await emit(mallory, 'stream:begin', { id: 'w', meta: { kind: 'fit', round: 1, taskId: 't', config: { round: 1, ...fit } }, totalBytes: 4 }))).toBe(
      'a client may not send a "fit" stream',
    );
    mallory.disconnect();
    while (coordinator.clients.length > 0) await new Promise((r) => setTimeout(r, 10));

    // ---- phase 2: the legit federation runs while attackers who never said a valid hello poke at it ----
    const trainers = [0, 1].map((i) => {
      const d = linearData(20 + 10 * i, i + 1);
      return new LinearTrainer(d.xs, d.ys, `h${i}`);
    });
    for (const t of trainers) fed.client(coordinator.url, t.name, t, { logger: silent });
    const run = coordinator.run();

    const eve = await attacker(coordinator.url);
    const garbage: unknown[] = [
      42,
      'hello',
      null,
      [],
      { type: 'launch-missiles' },
      { type: 'hello' },
      hello({ protocolVersion: '1' }),
      hello({ capabilities: { backend: 'js' } }),
      hello({ modelSpec: [{ name: 'w', shape: [-2] }] }),
    ];
    for (const payload of garbage) expect(refused(await emit(eve, 'msg', payload))).toMatch(/^malformed message: /);
    // Missing fields are named, so the sender knows what to fix.
    expect(errorOf(await emit(eve, 'msg', { type: 'hello' }))).toMatch(/protocolVersion.*name.*capabilities/s);
    expectedRefusals++;
    // A long string is refused by its length, and the refusal does not echo it back.
    const huge = refused(await emit(eve, 'msg', hello({ name: 'x'.repeat(200_000) })));
    expect(huge).toMatch(/^malformed message: name: /);
    expect(huge.length).toBeLessThan(500);
    // Well-formed, but not a hello.
    expect(refused(await emit(eve, 'msg', { type: 'fit-failure', round: 1, taskId: 't', reason: 'r' }))).toBe('expected hello first, got "fit-failure"');
    // Stream headers: a bogus meta, then a valid meta before hello.
    expect(refused(await emit(eve, 'stream:begin', { id: 'b1', meta: { kind: 'fit-result', round: -1, taskId: '' }, totalBytes: 8 }))).toMatch(
      /^malformed stream header: round: .*taskId: .*numExamples: /s,
    );
    expect(refused(await emit(eve, 'stream:begin', { id: 'b2', meta: { kind: 'weights' }, totalBytes: 8 }))).toMatch(/^malformed stream header: kind: /);
    expect(refused(await emit(eve, 'stream:begin', { id: 'b3', meta: fakeTask, totalBytes: 8 }))).toBe('this peer accepts no streams');
    expect(eve.connected).toBe(true); // garbage is refused message by message; the socket is not dropped for it

    // A hello with the wrong protocol version: refused, told why, and disconnected. The version before this one
    // (2) sends every stream in steps and cannot read a stream sent whole: it is refused like any other.
    for (const version of [PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 98]) {
      const oldClient = await attacker(coordinator.url);
      const versionRefusal = nextMessage(oldClient, 'refused');
      const gone = disconnected(oldClient);
      const versionError = refused(await emit(oldClient, 'msg', hello({ protocolVersion: version })));
      expect(versionError).toBe(`protocol version ${version} is not supported: this coordinator speaks version ${PROTOCOL_VERSION}; upgrade the older side`);
      expect((await versionRefusal).reason).toBe(versionError);
      await gone;
    }

    // A hello whose model does not match: refused naming the tensor and both shapes.
    const wrongModel = await attacker(coordinator.url);
    const specRefusal = nextMessage(wrongModel, 'refused');
    const gone2 = disconnected(wrongModel);
    const specError = refused(
      await emit(wrongModel, 'msg', hello({ name: 'wrong-model', modelSpec: [{ name: 'w', shape: [3] }, { name: 'b', shape: [1] }] })),
    );
    expect(specError).toBe('the client\'s model does not match the federation\'s: tensor "w": expected shape [2], got [3]');
    expect((await specRefusal).reason).toBe(specError);
    await gone2;

    // Before login the parser takes small packets only: a 400 KB hello closes its connection unparsed (guardedParser.ts).
    const bulky = await attacker(coordinator.url);
    const bulkyGone = disconnected(bulky);
    bulky.emit('msg', hello({ name: 'x'.repeat(400_000) }));
    await bulkyGone;

    const result = await run;
    expect(result.history).toHaveLength(2);
    for (const record of result.history) {
      expect(record.attempts).toBe(1);
      expect(record.fit.outcomes.map((o) => o.client).sort()).toEqual(['h0', 'h1']);
      expect(record.fit.outcomes.every((o) => !o.failure)).toBe(true);
      expect(record.evaluate!.outcomes.map((o) => o.client).sort()).toEqual(['h0', 'h1']);
    }
    // Training still worked: the model moved away from zero.
    expect(result.weights[0]!.data[0]).toBeGreaterThan(0.1);
    expect(coordinator.refusals).toBe(expectedRefusals);
  });
});
