import { silent } from '../helpers/silentLogger.js';
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessList, type AllowedPeer } from '../../src/coordinator/accessList.js';
import type { AuditTrail } from '../../src/coordinator/auditTrail.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity, type Identity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { TestFederation } from '../helpers/federation.js';
import { ask, fuzzInputs, SessionLane, Tally, UnauthenticatedLane, type MessageBases } from '../helpers/fuzzLanes.js';
import type { HelloRules } from '../helpers/helloOracle.js';
import { LinearTrainer, linearData } from '../helpers/linearTrainer.js';
import { rawHandshake, rawHello } from '../helpers/rawHandshake.js';
import { frameInputs, RawFrameLane } from '../helpers/rawFrameLane.js';
import { connectRawSocket } from '../helpers/socketPair.js';
import { attackTasks } from '../helpers/taskAttack.js';
import { TaskHolder, type HeldTask } from '../helpers/taskHolder.js';
import { honestUpload, sendUpload, type UploadContext } from '../helpers/uploadFaults.js';
import { waitUntil } from '../helpers/waitUntil.js';

/** Fixed so a CI failure reproduces; set FUZZ_SEED to explore other inputs. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_250_611);
/** One round per kind of upload fault met past a valid header (see attackTasks). */
const ROUNDS = 13;
const fit = { epochs: 3, batchSize: 8, learningRate: 0.2 };
const SPEC = [
  { name: 'w', shape: [2] },
  { name: 'b', shape: [1] },
];
const zeros = (): Weights => SPEC.map((t) => ({ ...t, data: new Float32Array(t.shape[0]!) }));
/** What the attacker tries to get into the model: large enough that any leak shows in the result. */
const POISON: Weights = SPEC.map((t) => ({ ...t, data: new Float32Array(t.shape[0]!).fill(100) }));

function memoryAudit(): AuditTrail & { events: { type: string; data: Readonly<Record<string, unknown>> }[] } {
  const events: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
  return { events, append: (type, data) => void events.push({ type, data }) };
}

function trainer(i: number): LinearTrainer {
  const d = linearData(20 + 10 * i, i + 1);
  return new LinearTrainer(d.xs, d.ys, `h${i}`);
}

const b64 = (bytes: number) => encodeBase64(new Uint8Array(randomBytes(bytes)));

/** Valid messages of every kind an unauthenticated or task-less peer might send, to mutate. */
function messageBases(keys: Record<string, Identity>): MessageBases {
  const taskId = randomUUID();
  const fitConfig = { round: 1, epochs: 1, batchSize: 8, learningRate: 0.1 };
  return {
    messages: [
      rawHello('watcher', {}, keys.watcher).message, // admissible: the watcher's public key is no secret
      rawHello('intruder').message, // not on the access list
      rawHello('h0').message, // a listed name with the wrong key
      { type: 'auth', signature: b64(64) },
      { type: 'evaluate-result', round: 1, taskId, numExamples: 10, loss: 0.5, metrics: { mse: 0.5 }, signature: b64(64) },
      { type: 'fit-failure', round: 1, taskId, reason: 'out of memory' },
      { type: 'evaluate-failure', round: 1, taskId, reason: 'no test data' },
      { type: 'statistics-failure', taskId, reason: 'no scaler' },
    ],
    headers: [
      { id: 'upload-1', meta: { kind: 'fit-result', round: 1, taskId, numExamples: 10, metrics: { loss: 0.5 } }, totalBytes: 84 },
      { id: 'upload-2', meta: { kind: 'statistics-result', taskId, numExamples: 10 }, totalBytes: 84 },
      { id: 'upload-3', meta: { kind: 'fit', round: 1, taskId, config: fitConfig }, totalBytes: 84 },
    ],
    chunk: { id: 'upload-1', seq: 0, bytes: Buffer.alloc(84) },
    trailer: { id: 'upload-1', sha256: 'ab'.repeat(32), signature: b64(64) },
    abort: { id: 'upload-1', reason: 'cancelled' },
  };
}

let fed: TestFederation;
const sockets: { disconnect(): unknown }[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  await fed.close();
});

describe('fuzzing a live coordinator while a federation trains', () => {
  it('refuses every bad input with an error, stays up, and completes every round with both legit clients', async () => {
    fed = new TestFederation();
    const audit = memoryAudit();
    const keys: Record<string, Identity> = { h0: generateIdentity(), h1: generateIdentity(), attacker: generateIdentity(), watcher: generateIdentity() };
    const peers: AllowedPeer[] = [
      { name: 'h0', publicKey: keys.h0!.publicKey, role: 'client' },
      { name: 'h1', publicKey: keys.h1!.publicKey, role: 'client' },
      // A listed client that receives real tasks and answers them with fuzz.
      { name: 'attacker', publicKey: keys.attacker!.publicKey, role: 'client' },
      // A listed observer: authenticated, holds no task, fuzzes every event.
      { name: 'watcher', publicKey: keys.watcher!.publicKey, role: 'observer' },
    ];
    const access = AccessList.of(peers);
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 3, fit }),
      initialWeights: zeros(),
      rounds: ROUNDS,
      roundTimeoutMs: 15_000,
      access,
      audit,
      logger: silent,
      // Every refused handshake costs the fuzzer a connection.
      maxConnectionsPerMinute: 1_000_000,
      maxPendingHandshakes: 10_000,
    });
    const { url } = coordinator;
    for (const i of [0, 1]) fed.client(url, `h${i}`, trainer(i), { identity: keys[`h${i}`]!, coordinatorKey: coordinator.identity.publicKey, logger: silent });

    const watcherSocket = await connectRawSocket(url);
    sockets.push(watcherSocket);
    const watcherHello = rawHello('watcher', {}, keys.watcher);
    expect((await rawHandshake(watcherSocket, watcherHello)).ack).toEqual({ ok: true });
    const attacker = await TaskHolder.connect(url, 'attacker', keys.attacker!);
    sockets.push({ disconnect: () => attacker.close() });
    await waitUntil(() => coordinator.clients.length === 3, 'h0, h1 and the attacker to join');
    const run = coordinator.run();

    const bases = messageBases(keys);
    const rules: HelloRules = { protocolVersion: PROTOCOL_VERSION, peers, spec: SPEC };
    const unauthenticated = [0, 1, 2].map(() => new UnauthenticatedLane(url, rules, new Tally()));
    const session = new SessionLane(watcherSocket, watcherHello.message, new Tally());
    const raw = new RawFrameLane(url, new Tally());
    const attackerTally = new Tally();
    sockets.push(...unauthenticated.map((l) => ({ disconnect: () => l.close() })), { disconnect: () => raw.close() });

    const inputs = fuzzInputs(bases);
    const [attackerStats] = await Promise.all([
      attackTasks(attacker, { otherSigner: keys.h0!, poison: POISON, seed: SEED + 1_000 }, attackerTally).catch((e: unknown) => {
        throw new Error(`${(e as Error).message} (FUZZ_SEED=${SEED})`);
      }),
      ...unauthenticated.map((lane, i) => fc.assert(fc.asyncProperty(inputs, (input) => lane.run(input)), { numRuns: 500, seed: SEED + i })),
      fc.assert(fc.asyncProperty(inputs, (input) => session.run(input)), { numRuns: 600, seed: SEED + 10 }),
      fc.assert(fc.asyncProperty(frameInputs, (frames) => raw.run(frames)), { numRuns: 300, seed: SEED + 20 }),
    ]);
    // The fuzzed session survived everything; now it leaves, so the run's end need not wait for it.
    expect(watcherSocket.connected).toBe(true);
    watcherSocket.disconnect();
    const result = await run;

    // ---- the federation was not disturbed ----
    expect(result.history).toHaveLength(ROUNDS);
    for (const r of result.history) {
      expect(r.attempts).toBe(1);
      expect(r.fit.outcomes.filter((o) => !o.failure).map((o) => o.client).sort()).toEqual(['h0', 'h1']);
      expect(r.fit.outcomes.find((o) => o.client === 'attacker')?.failure).toBeDefined();
      expect(r.evaluate!.outcomes.filter((o) => !o.failure).map((o) => o.client).sort()).toEqual(['h0', 'h1']);
    }
    // The model trained (toward y = 2 x0 - 3 x1 + 1), and none of the attacker's 100s reached it.
    const [w, b] = result.weights;
    expect(w!.data[0]).toBeGreaterThan(0.5);
    expect(w!.data[1]).toBeLessThan(-0.5);
    for (const v of [...w!.data, ...b!.data]) expect(Math.abs(v)).toBeLessThan(5);
    expect(attackerStats.fitTasks).toBe(ROUNDS);
    expect(attackerStats.evaluateTasks).toBe(ROUNDS);
    expect(attackerStats.deepUploads).toBe(ROUNDS);
    expect(attackerStats.wholeUploads).toBeGreaterThan(0);

    // ---- refusals were handled as the protocol says ----
    // A refused handshake is audited (in counted summaries, one entry per interval) and its connection closed.
    coordinator.flushRefusals(); // the lanes may outlast the run, whose end wrote the last summary
    const summaries = audit.events.filter((e) => e.type === 'refusals');
    const counted = summaries.reduce((sum, e) => sum + ((e.data.kinds as Record<string, number>)['auth-failed'] ?? 0), 0);
    const laneReasons = unauthenticated.flatMap((lane) => lane.refusalReasons);
    expect(counted).toBeGreaterThanOrEqual(laneReasons.length);
    // Each summary lists its most frequent reasons by name, and the rest by count.
    const listed = new Set(summaries.flatMap((e) => (e.data.reasons as { reason: string }[]).map((r) => r.reason)));
    const frequent = [...laneReasons.reduce((m, r) => m.set(r, (m.get(r) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1])[0];
    if (frequent) expect(listed.has(frequent[0]), `most frequent refusal not listed: ${frequent[0]}`).toBe(true);
    for (const lane of unauthenticated) {
      await waitUntil(() => lane.refusedSockets.every((s) => !s.connected), 'the coordinator to close every refused connection', 5_000);
    }
    // Raw frames that carried an ack id were answered with refusals only.
    expect(raw.refusalsChecked()).toBeGreaterThan(0);
    const tallies = [...unauthenticated.map((l) => l.tally), session.tally, raw.tally, attackerTally];
    const total = (k: 'inputs' | 'refused') => tallies.reduce((s, t) => s + t[k], 0);
    // Every refusal it acknowledged was also counted where operators can see it.
    expect(coordinator.refusals).toBeGreaterThanOrEqual(total('refused'));

    // ---- and the coordinator still answers a newcomer ----
    const probe = await connectRawSocket(url);
    sockets.push(probe);
    const answer = await ask(probe, 'msg', [{ type: 'hello' }]);
    expect(answer.ok).toBe(false);

    console.log(
      `fuzz (seed ${SEED}): ${total('inputs')} inputs tried — unauthenticated ${unauthenticated.map((l) => l.tally.inputs).join('+')} ` +
        `(${unauthenticated.reduce((s, l) => s + l.tally.connections, 0)} connections, ${unauthenticated.reduce((s, l) => s + l.tally.accepted, 0)} admissible hellos answered with a challenge), ` +
        `authenticated observer ${session.tally.inputs}, raw frames ${raw.tally.inputs} (${raw.tally.serverClosed} connections closed by the server), ` +
        `task-holding client ${attackerTally.inputs} over ${ROUNDS} rounds (${attackerStats.deepUploads} uploads refused past a valid header; faults ${JSON.stringify(attackerStats.faults)}); ` +
        `${total('refused')} refusals acknowledged, coordinator.refusals ${coordinator.refusals}`,
    );
  });
});

/**
 * Bugs the fuzzer found in src/, pinned as expected failures (`it.fails` passes while the bug is there).
 * When one is fixed its test starts failing: drop `.fails` (and, for the refusal size, let mutationsOf in
 * test/helpers/fuzzMutations.ts add long keys, not only keys of up to 24 characters).
 */
describe('found by fuzzing: known bugs', () => {
  it('refuses a hello whose key is 44 base64 characters of 33 bytes as malformed, or audits it and cuts it off', async () => {
    // wireFields.ts base64Of(32) checks the text length (44) and alphabet, not the decoded length: 'A' x 44
    // decodes to 33 bytes, and keyFingerprint() then throws inside AccessList.decide(), so refuse() never runs.
    fed = new TestFederation();
    const audit = memoryAudit();
    const h0 = generateIdentity();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, access: AccessList.of([{ name: 'h0', publicKey: h0.publicKey, role: 'client' }]), audit, logger: silent });
    const socket = await connectRawSocket(coordinator.url);
    sockets.push(socket);
    const ack = await ask(socket, 'msg', [rawHello('h0', { identityKey: 'A'.repeat(44) }).message]);
    const error = ack.ok ? '' : ack.error;
    expect(ack.ok).toBe(false);
    // Fixed in the schema, it is a malformed message; fixed in the server, a refused handshake (audited, cut off).
    if (!error.startsWith('malformed message: ')) {
      coordinator.flushRefusals();
      expect(audit.events.filter((e) => e.type === 'refusals').flatMap((e) => (e.data.reasons as { reason: string }[]).map((r) => r.reason))).toContain(error);
      await waitUntil(() => !socket.connected, 'the coordinator to close the connection', 2_000);
    }
  });

  it('does not let a refusal grow with the input: 20,000 bad tensor specs, or a 100,000-character metric name', async () => {
    // describeZodError (messages.ts) lists every issue with its full path: a 40 KB hello comes back as a
    // 1.3 MB refusal (about 33 times the input, and as long in the log), and record keys are echoed whole.
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, logger: silent });
    const socket = await connectRawSocket(coordinator.url);
    sockets.push(socket);
    const manySpecs = await ask(socket, 'msg', [rawHello('eve', { modelSpec: new Array(20_000).fill(0) }).message]);
    const longKey = await ask(socket, 'msg', [{ type: 'evaluate-result', round: 1, taskId: 't', numExamples: 1, loss: 0, metrics: { ['k'.repeat(100_000)]: 'x' }, signature: b64(64) }]);
    for (const ack of [manySpecs, longKey]) {
      expect(ack.ok).toBe(false);
      expect(ack.ok ? 0 : ack.error.length).toBeLessThan(2_000);
    }
  });

  it('counts one update per fit task when a client opens two upload streams for it', async () => {
    // ClientSession.receiveStream checks only that the task is pending, and end() commits before settle():
    // both streams pass, both commit into the round, and the sender's update weighs twice.
    fed = new TestFederation();
    const audit = memoryAudit();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, fractionEvaluate: 0, fit }),
      initialWeights: zeros(),
      rounds: 1,
      audit,
      logger: silent,
    });
    const mallory = await TaskHolder.connect(coordinator.url, 'mallory', generateIdentity(), 10);
    const honest = await TaskHolder.connect(coordinator.url, 'honest', generateIdentity(), 20);
    sockets.push({ disconnect: () => mallory.close() }, { disconnect: () => honest.close() });
    const run = coordinator.run();
    const contextOf = (holder: TaskHolder, task: HeldTask, delta: Weights, numExamples: number): UploadContext => ({
      round: task.meta.round,
      taskId: task.meta.taskId,
      delta,
      numExamples,
      otherIds: [],
      otherSigner: holder.identity,
      sign: (c) => holder.signUpload(c.round, c.taskId, c.kind, { numExamples: c.numExamples, loss: 0.5 }, c.payloadHash),
    });
    const ones: Weights = SPEC.map((t) => ({ ...t, data: new Float32Array(t.shape[0]!).fill(1) }));
    const malloryTask = (await mallory.next()) as HeldTask;
    const honestTask = (await honest.next()) as HeldTask;
    // Two streams for one task, opened before either ends.
    const a = honestUpload(contextOf(mallory, malloryTask, POISON, 10), randomUUID());
    const b = honestUpload(contextOf(mallory, malloryTask, POISON, 10), randomUUID());
    const begins = await Promise.all([ask(mallory.socket, 'stream:begin', [a.header]), ask(mallory.socket, 'stream:begin', [b.header])]);
    expect(begins[0]).toEqual({ ok: true });
    // A fix may refuse the second stream at its header, a chunk or its end: any of these is fine.
    const ends: boolean[] = [];
    for (const [k, attempt] of [a, b].entries()) {
      if (!begins[k]!.ok) continue;
      let refused = false;
      for (const chunk of attempt.chunks) refused ||= !(await ask(mallory.socket, 'stream:chunk', chunk)).ok;
      if (!refused) ends.push((await ask(mallory.socket, 'stream:end', [attempt.trailer])).ok);
    }
    expect((await sendUpload(honest.socket, honestUpload(contextOf(honest, honestTask, ones, 20), randomUUID()), () => undefined)).at(-1)).toEqual({ ok: true });
    mallory.close();
    honest.close();
    const result = await run;
    // Counted once: (10 x 100 + 20 x 1) / 30 = 34. Counted twice it is (2 x 10 x 100 + 20 x 1) / 40 = 50.5.
    expect(audit.events.filter((e) => e.type === 'upload-accepted' && e.data.client === 'mallory')).toHaveLength(1);
    expect(result.weights[0]!.data[0]).toBeCloseTo(34, 4);
    expect(ends.filter(Boolean)).toHaveLength(1);
  });
});
