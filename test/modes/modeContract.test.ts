import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../../src/coordinator/store/runStore.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { encodedByteLength } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../helpers/constantShiftTrainer.js';
import { TestFederation } from '../helpers/federation.js';
import { silent } from '../helpers/silentLogger.js';
import { MODES, type SecureModeName } from '../../src/modes/index.js';

const SIZE = 120_000;
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: Float32Array.from({ length: SIZE }, (_, i) => (i % 1024) / 64) }];

let fed: TestFederation;
afterEach(async () => fed.close());

/**
 * The contract every secure-aggregation mode keeps, run against each entry of MODES: a federation of a
 * 120k-parameter model lands on the weighted mean step (within CKKS's grid), the run's store keeps a checkpoint
 * per round whose hash the audit log names, and no payload travels twice: the global a client evaluates in round r
 * is the one it trains from in round r + 1. Bytes are counted where the coordinator sends them.
 */
describe('the secure-aggregation mode contract', () => {
  for (const mode of Object.keys(MODES) as SecureModeName[]) {
    it(`${mode}: each client downloads each global once, and trains from the one it evaluated`, async () => {
      fed = new TestFederation();
      const rounds = 3;
      const store = new RunStore(join(mkdtempSync(join(tmpdir(), 'cohort-mode-contract-')), 'runs.db'));
      const audited: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
      const coordinator = await fed.coordinator({
        strategy: new FedAvg({ minFitClients: 3, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
        initialWeights: initial(),
        rounds,
        secureAggregation: mode,
        logger: silent,
        store,
        audit: { append: (type, data) => void audited.push({ type, data }) },
      });
      let down = 0;
      coordinator.on('traffic', ({ direction, bytes }) => void (direction === 'out' && (down += bytes)));
      const handles = [
        fed.client(coordinator.url, 'a', new ConstantShiftTrainer(initial(), 0.5, 10), { logger: silent }),
        fed.client(coordinator.url, 'b', new ConstantShiftTrainer(initial(), 0.25, 30), { logger: silent }),
        // A third client: SecAgg+ protects nobody with two (each would subtract its own update from the sum).
        fed.client(coordinator.url, 'c', new ConstantShiftTrainer(initial(), 0.3125, 20), { logger: silent }),
      ];
      const result = await coordinator.run();
      expect(result.history).toHaveLength(rounds);
      // Every round is checkpointed, and the audit log names the state the store holds.
      const kept = store.rounds(result.runId);
      expect(kept.map((r) => r.round)).toEqual([1, 2, 3]);
      expect(audited.filter((e) => e.type === 'round-completed').map((e) => e.data.model)).toEqual(kept.map((r) => r.modelSha256));
      store.close();
      // Every round trained on the previous round's global: the mean shift 0.3125 (5 + 7.5 + 6.25 over 60
      // examples) accumulates exactly (plain) or within CKKS's or SecAgg+'s quantization grid.
      for (const h of handles) {
        const w = h.globalWeights()![0]!.data;
        expect(Math.abs(w[5]! - (5 / 64 + rounds * 0.3125))).toBeLessThan(1e-6);
      }
      // Downloads: round 1's initial model, then one global a round (evaluate r, reused for fit r + 1), per client.
      // Modes where the coordinator holds the model (plain, secaggplus) stream it; ckks streams its encrypted sum.
      const perGlobal = result.encryptedModel ? result.encryptedModel.bytes : encodedByteLength(initial());
      const plainInitial = encodedByteLength(initial());
      const expected = handles.length * (plainInitial + rounds * perGlobal);
      expect(down).toBeGreaterThan(0.99 * expected);
      expect(down).toBeLessThan(1.02 * expected);
    });
  }
});
