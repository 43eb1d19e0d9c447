import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startClient, type ClientHandle } from '../../src/client/clientNode.js';
import type { StreamMetaOf } from '../../src/protocol/messages.js';
import { joinScaffold } from '../../src/protocol/scaffoldWire.js';
import { encodeWeights } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { LinearTrainer, linearData } from '../helpers/linearTrainer.js';
import { MaliciousCoordinator, type Victim } from '../helpers/maliciousCoordinator.js';
import { silent } from '../helpers/silentLogger.js';

/**
 * The client half of "no payload travels twice", against a coordinator that deviates: a task may name a payload
 * by its SHA-256 instead of carrying it, and the client uses only a payload it received whole and hashed itself.
 * A hash it does not hold is refused with the code that tells an honest coordinator to send the bytes (the same
 * task then goes through); a held hash under another header than the one it arrived with is refused outright.
 */
const model = (w: number, b: number): Weights => [
  { name: 'w', shape: [2], data: Float32Array.of(w, -w) },
  { name: 'b', shape: [1], data: Float32Array.of(b) },
];
const sha256 = (weights: Weights) => createHash('sha256').update(encodeWeights(weights)).digest('hex');
const evaluate = (taskId: string, round = 1): StreamMetaOf<'evaluate'> => ({ kind: 'evaluate', round, taskId, config: { round, batchSize: 8 } });

let coordinator: MaliciousCoordinator;
let handle: ClientHandle;
let audit: { type: string; data: Readonly<Record<string, unknown>> }[];
let victim: Victim;

beforeEach(async () => {
  coordinator = await MaliciousCoordinator.start();
  audit = [];
  const d = linearData(20, 3);
  handle = startClient({
    url: coordinator.url,
    name: 'h0',
    trainer: new LinearTrainer(d.xs, d.ys, 'h0'),
    coordinatorKey: coordinator.identity.publicKey,
    logger: silent,
    audit: { append: (type, data) => void audit.push({ type, data }) },
  });
  victim = await coordinator.victim('h0');
});

afterEach(async () => {
  await handle.stop();
  await coordinator.close();
});

describe('a task that names a payload instead of carrying it', () => {
  it('is evaluated on the payload the client holds, as if the bytes came again', async () => {
    const global = model(0.75, 0.5);
    expect(await coordinator.task(victim, evaluate('t1'), global)).toBeUndefined();
    const sent = await victim.next('evaluate-result');
    expect(await coordinator.reference(victim, { ...evaluate('t2', 2), reuses: sha256(global) })).toBeUndefined();
    const reused = await victim.next('evaluate-result');
    expect(reused.taskId).toBe('t2');
    expect(reused.loss).toBe(sent.loss);
  });

  it('naming a payload the client never received: refused with payload-not-held, then the same task with the bytes is taken', async () => {
    const global = model(0.75, 0.5);
    expect(await coordinator.task(victim, evaluate('t1'), global)).toBeUndefined();
    const first = await victim.next('evaluate-result');
    const other = model(-2, 3);
    const refusal = await coordinator.reference(victim, { ...evaluate('t2', 2), reuses: sha256(other) });
    expect(refusal?.code).toBe('payload-not-held');
    expect(refusal?.message).toMatch(/does not hold/);
    // Not a replay: the refused header took no task id, so the honest fallback (the bytes) goes through.
    expect(await coordinator.task(victim, evaluate('t2', 2), other)).toBeUndefined();
    const second = await victim.next('evaluate-result');
    expect(second.taskId).toBe('t2');
    expect(second.loss).not.toBe(first.loss);
    // The bytes it now holds are the new payload: naming the old one is refused again.
    expect((await coordinator.reference(victim, { ...evaluate('t3', 3), reuses: sha256(global) }))?.code).toBe('payload-not-held');
  });

  it('naming the held payload under another secure-aggregation header: refused, not the fallback code, nothing evaluated', async () => {
    const global = model(0.75, 0.5);
    expect(await coordinator.task(victim, evaluate('t1'), global)).toBeUndefined();
    await victim.next('evaluate-result');
    const refusal = await coordinator.reference(victim, { ...evaluate('t2', 2), reuses: sha256(global), encrypted: { totalWeight: 1, count: 3 } });
    expect(refusal?.message).toMatch(/another secure-aggregation header/);
    expect(refusal?.code).toBeUndefined();
    await expect(victim.next('evaluate-result', 300)).rejects.toThrow(/no evaluate-result/);
  });

  it("SCAFFOLD's [x; c] under its layout: evaluated and kept as x; a fit that names it must ask for that layout", async () => {
    const global = model(0.75, 0.5);
    const payload = joinScaffold(global, model(0.1, -0.2));
    expect(await coordinator.task(victim, { ...evaluate('t1'), layout: 'scaffold' }, payload)).toBeUndefined();
    const onX = await victim.next('evaluate-result');
    expect(await coordinator.task(victim, evaluate('t2', 2), global)).toBeUndefined();
    expect((await victim.next('evaluate-result')).loss).toBe(onX.loss); // x itself, not [x; c]
    expect(await coordinator.task(victim, { ...evaluate('t3', 3), layout: 'scaffold' }, payload)).toBeUndefined();
    await victim.next('evaluate-result');
    // A plain fit naming [x; c]: its config asks for the model, its layout says [x; c] (or says nothing): refused.
    const plainFit: StreamMetaOf<'fit'> = { kind: 'fit', round: 4, taskId: 'f4', config: { round: 4, epochs: 1, batchSize: 8, learningRate: 0.1 }, reuses: sha256(payload) };
    expect((await coordinator.reference(victim, { ...plainFit, layout: 'scaffold' }))?.message).toMatch(/payload layout \(scaffold\) is not the one its config asks for/);
    expect((await coordinator.reference(victim, { ...plainFit, taskId: 'f5' }))?.message).toMatch(/as another layout than the one it was read as/);
    // The final model under the layout is kept as x.
    expect(await coordinator.reference(victim, { kind: 'final', round: 5, taskId: 'k1', reuses: sha256(payload), layout: 'scaffold' })).toBeUndefined();
    expect(handle.globalWeights()).toEqual(global);
  });

  it('a final model that names the held payload is kept without the bytes; an unsigned one is refused', async () => {
    const global = model(0.75, 0.5);
    expect(await coordinator.task(victim, evaluate('t1'), global)).toBeUndefined();
    await victim.next('evaluate-result');
    const final: StreamMetaOf<'final'> = { kind: 'final', round: 1, taskId: 'f1', reuses: sha256(global) };
    expect(await coordinator.reference(victim, final)).toBeUndefined();
    expect(handle.globalWeights()).toEqual(global);
    expect(audit.filter((e) => e.type === 'final-model').map((e) => e.data)).toEqual([{ run: coordinator.runId, round: 1, task: 'f1', sha256: sha256(global) }]);
    // Unsigned bytes (a party on the path): refused, and the kept model stays the signed one.
    expect(await coordinator.task(victim, { kind: 'final', round: 2, taskId: 'f2' }, model(9, 9), null)).toMatch(/not signed by the coordinator/);
    expect(handle.globalWeights()).toEqual(global);
  });
});
