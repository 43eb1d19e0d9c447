import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TestFederation } from '../../helpers/federation.js';
import { CLIENTS, examplesOf, names, runWithDropouts, shiftOf, SIZE, survivorsSum } from './dropoutFederation.js';

let fed: TestFederation;
afterEach(async () => fed.close());

describe('SecAgg+ with 10% of the clients leaving before upload and 30% after, every round', () => {
  it('the unmasked sum equals the survivors\' quantized updates summed mod 2^32, to the bit, and the model moves by their mean', async () => {
    fed = new TestFederation();
    const dropouts = await runWithDropouts(fed, { neighbours: 18, threshold: 10 }, 2);
    const { run, schedule, unmasked, encoded, left } = dropouts;
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
      const sum = survivorsSum(dropouts, u, 32);
      expect(u.bits).toBe(32);
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
    fed = new TestFederation();
    const { run } = await runWithDropouts(fed, {}, 1);
    await expect(run).rejects.toThrow(/12 of the 20 members revealed shares .* set secaggplus\.neighbours: 18 and secaggplus\.threshold 10;/);
  }, 240_000);
});
