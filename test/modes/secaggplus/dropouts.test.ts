import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { dropoutSchedule } from '../../../src/client/dropouts/dropoutSchedule.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity } from '../../../src/crypto/identity.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../../helpers/constantShiftTrainer.js';
import { TestFederation } from '../../helpers/federation.js';
import { silent } from '../../helpers/silentLogger.js';

// Must-show 1 at CI size: 20 clients, 120k parameters, each round 10% leave after the key exchange and before
// uploading and 30% just after their upload was accepted (real disconnects over loopback sockets).
const SIZE = 120_000;
const CLIENTS = 20;
const names = Array.from({ length: CLIENTS }, (_, i) => `site-${String(i).padStart(2, '0')}`);
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: Float32Array.from({ length: SIZE }, (_, i) => (i % 512) / 256) }];
/** Each site shifts every parameter by its own amount (not on the quantization grid), so the mean says who was summed. */
const shiftOf = (name: string) => 0.013 * (names.indexOf(name) + 1) - 0.1;
const examplesOf = (name: string) => 10 + names.indexOf(name);

interface Unmasked {
  readonly round: number;
  readonly survivors: readonly string[];
  readonly revealers: number;
  readonly droppedMaskKeys: number;
  readonly sumSha256: string;
}

let fed: TestFederation;
afterEach(async () => fed.close());

async function runWithDropouts(secaggplus: { neighbours?: number; threshold?: number }, rounds: number) {
  fed = new TestFederation();
  const schedule = dropoutSchedule(names, { beforeUpload: 0.1, afterUpload: 0.3, seed: 7 });
  const unmasked: Unmasked[] = [];
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({ fractionFit: 1, minFitClients: 12, minAvailableClients: CLIENTS, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
    initialWeights: initial(),
    rounds,
    maxRoundRetries: 0,
    roundTimeoutMs: 120_000,
    secureAggregation: 'secaggplus',
    secaggplus,
    logger: silent,
    audit: { append: (type, data) => void (type === 'secaggplus-unmasked' && unmasked.push(data as unknown as Unmasked)) },
  });
  // What each site encoded (quantized, before masking), by round: what the unmasked sum must add up to.
  const encoded = new Map<number, Map<string, Uint32Array>>();
  const left: { name: string; round: number; step: string }[] = [];
  const identities = new Map(names.map((n) => [n, generateIdentity()]));
  const roster = names.map((name) => ({ name, identityKey: identities.get(name)!.publicKey }));
  for (const name of names) {
    fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), shiftOf(name), examplesOf(name)), {
      logger: silent,
      identity: identities.get(name)!,
      security: { mode: 'secaggplus', roster },
      onEvent: (e) => void (e.type === 'left' && left.push({ name, round: e.round, step: e.step })),
      simulation: {
        leaveAt: schedule.leaveAt(name),
        onSecAggEncoded: (round, values) => {
          if (!encoded.has(round)) encoded.set(round, new Map());
          encoded.get(round)!.set(name, values);
        },
      },
    });
  }
  return { run: coordinator.run(), schedule, unmasked, encoded, left };
}

describe('SecAgg+ with 10% of the clients leaving before upload and 30% after, every round', () => {
  it('the unmasked sum equals the survivors\' quantized updates summed mod 2^32, to the bit, and the model moves by their mean', async () => {
    const { run, schedule, unmasked, encoded, left } = await runWithDropouts({ neighbours: 18, threshold: 10 }, 2);
    const result = await run;
    expect(unmasked.map((u) => u.round)).toEqual([1, 2]);
    let expectedShift = 0;
    for (const u of unmasked) {
      const drops = schedule.at(u.round);
      expect(drops.beforeUpload).toHaveLength(2);
      expect(drops.afterUpload).toHaveLength(6);
      // The clients really left where the plan says, and the coordinator saw it: the ones that left before
      // uploading are out of the sum (their mask keys rebuilt), the ones that left after are in it.
      expect(left.filter((l) => l.round === u.round && l.step === 'before-upload').map((l) => l.name).sort()).toEqual(drops.beforeUpload);
      expect(left.filter((l) => l.round === u.round && l.step === 'after-upload').map((l) => l.name).sort()).toEqual(drops.afterUpload);
      expect(u.survivors).toEqual(names.filter((n) => !drops.beforeUpload.includes(n)));
      expect(u.droppedMaskKeys).toBe(2);
      expect(u.revealers).toBe(CLIENTS - 8);
      // The exact check: the survivors' own encodings, summed mod 2^32 here, hash to what the coordinator unmasked.
      const sum = new Uint32Array(SIZE);
      for (const name of u.survivors) {
        const values = encoded.get(u.round)!.get(name)!;
        for (let i = 0; i < SIZE; i++) sum[i] = (sum[i]! + values[i]!) >>> 0;
      }
      expect(encoded.get(u.round)!.size).toBe(u.survivors.length);
      expect(u.sumSha256).toBe(createHash('sha256').update(sum).digest('hex'));
      const weight = u.survivors.reduce((s, n) => s + examplesOf(n), 0);
      expectedShift += u.survivors.reduce((s, n) => s + examplesOf(n) * shiftOf(n), 0) / weight;
    }
    // The model moved by the survivors' example-weighted mean shift each round, within the quantization error
    // (one level of 2 x 8 / floor((2^32 - 1) / 20) per value, far below the 0.013 between two sites' shifts).
    const w = result.weights[0]!.data;
    for (const i of [0, 1, 4_099, SIZE - 1]) expect(Math.abs(w[i]! - ((i % 512) / 256 + expectedShift))).toBeLessThan(1e-5);
    expect(result.history.map((h) => h.fit!.outcomes.filter((o) => !('failure' in o) || o.failure === undefined).length)).toEqual([CLIENTS - 2, CLIENTS - 2]);
  }, 240_000);

  it('at the default threshold the round fails cleanly, and the error says which neighbours and threshold survive', async () => {
    // 20 clients, the default graph (2 ceil(1.5 log2 20) = 14 neighbours) and threshold (floor(2 x 14 / 3) + 1 = 10):
    // 12 survivors sign, but some neighbourhoods keep fewer than 10 of them.
    const { run } = await runWithDropouts({}, 1);
    await expect(run).rejects.toThrow(/12 of the 20 members revealed shares .* set secaggplus\.neighbours: 18 and secaggplus\.threshold 10;/);
  }, 240_000);
});
