import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/client/clientNode.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { MODES, type SecureModeName } from '../../src/modes/index.js';
import { encodedByteLength } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../helpers/constantShiftTrainer.js';
import { TestFederation } from '../helpers/federation.js';
import { silent } from '../helpers/silentLogger.js';

const SIZE = 120_000;
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: Float32Array.from({ length: SIZE }, (_, i) => (i % 1024) / 64) }];
/** The clients' shifts and example counts: the weighted mean step is (5 + 7.5 + 6.25) / 60 = 0.3125 a round. */
const CLIENTS = [
  { name: 'a', shift: 0.5, examples: 10 },
  { name: 'b', shift: 0.25, examples: 30 },
  { name: 'c', shift: 0.3125, examples: 20 },
] as const;
const STEP = 0.3125;

let fed: TestFederation;
afterEach(async () => fed.close());

/**
 * The model a client keeps at the end of a run is the run's last global, whatever the evaluation settings: with
 * fractionEvaluate 0 no evaluate task carries it, so the coordinator sends it (or, to a client that holds it,
 * its hash) once the rounds are over. Before that, each client kept the global it last trained from: the one
 * before the last round, one step short.
 */
describe('the final model a client keeps', () => {
  for (const mode of Object.keys(MODES) as SecureModeName[]) {
    it(`${mode}: is the last global with evaluation off, sent once to each client`, async () => {
      fed = new TestFederation();
      const rounds = 3;
      const audited: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
      const coordinator = await fed.coordinator({
        strategy: new FedAvg({ minFitClients: 3, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
        initialWeights: initial(),
        rounds,
        secureAggregation: mode,
        logger: silent,
        audit: { append: (type, data) => void audited.push({ type, data }) },
      });
      let down = 0;
      coordinator.on('traffic', ({ direction, bytes }) => void (direction === 'out' && (down += bytes)));
      const events: Record<string, ClientEvent[]> = {};
      const handles = CLIENTS.map(({ name, shift, examples }) =>
        fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), shift, examples), { logger: silent, onEvent: (e) => void (events[name] ??= []).push(e) }),
      );
      const result = await coordinator.run();
      await Promise.all(handles.map((h) => h.done));
      expect(result.history.every((r) => r.evaluate === undefined)).toBe(true);
      for (const [i, h] of handles.entries()) {
        const kept = h.globalWeights()![0]!.data;
        // Within CKKS's and SecAgg+'s grids of the exact value; one round short would be 0.3125 off.
        expect(Math.abs(kept[5]! - (5 / 64 + rounds * STEP))).toBeLessThan(1e-6);
        expect(Math.abs(kept[1000]! - (1000 / 64 + rounds * STEP))).toBeLessThan(1e-5);
        // Where the coordinator holds the model it is the very same one, to the bit.
        if (mode !== 'ckks') expect(kept).toEqual(result.weights[0]!.data);
        expect(events[CLIENTS[i]!.name]!.filter((e) => e.type === 'final-model')).toEqual([{ type: 'final-model', round: rounds }]);
      }
      const sent = audited.filter((e) => e.type === 'final-model-sent');
      expect(sent).toHaveLength(1);
      expect(sent[0]!.data).toMatchObject({ round: rounds, missed: [] });
      expect([...(sent[0]!.data.kept as string[])].sort()).toEqual(['a', 'b', 'c']);
      // Downloads: each round's fit global (no client holds it: nobody evaluated it), then the last global once.
      const plainBytes = encodedByteLength(initial());
      const perGlobal = result.encryptedModel ? result.encryptedModel.bytes : plainBytes;
      const expected = CLIENTS.length * (plainBytes + rounds * perGlobal);
      expect(down).toBeGreaterThan(0.99 * expected);
      expect(down).toBeLessThan(1.02 * expected);
    });
  }

  it('plain, evaluation on: the last global is already held, so the final model travels as its hash alone', async () => {
    fed = new TestFederation();
    const rounds = 2;
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 3, fractionEvaluate: 1, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: initial(),
      rounds,
      logger: silent,
    });
    let down = 0;
    coordinator.on('traffic', ({ direction, bytes }) => void (direction === 'out' && (down += bytes)));
    const handles = CLIENTS.map(({ name, shift, examples }) => fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), shift, examples), { logger: silent }));
    const result = await coordinator.run();
    await Promise.all(handles.map((h) => h.done));
    for (const h of handles) expect(h.globalWeights()![0]!.data).toEqual(result.weights[0]!.data);
    // The initial model, then one global a round (evaluated in round r, trained from in r + 1, kept at the end).
    expect(down).toBe(CLIENTS.length * (rounds + 1) * encodedByteLength(initial()));
  });
});
