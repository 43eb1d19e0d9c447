import { describe, expect, it } from 'vitest';
import { Bulyan } from '../../../src/coordinator/strategies/bulyan.js';
import { FedAdagrad } from '../../../src/coordinator/strategies/fedAdagrad.js';
import { FedAdam } from '../../../src/coordinator/strategies/fedAdam.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { FedAvgM } from '../../../src/coordinator/strategies/fedAvgM.js';
import { FedMedian } from '../../../src/coordinator/strategies/fedMedian.js';
import { FedProx } from '../../../src/coordinator/strategies/fedProx.js';
import { FedTrimmedAvg } from '../../../src/coordinator/strategies/fedTrimmedAvg.js';
import { FedYogi } from '../../../src/coordinator/strategies/fedYogi.js';
import { Krum } from '../../../src/coordinator/strategies/krum.js';
import { Scaffold } from '../../../src/coordinator/strategies/scaffold.js';
import type { Strategy } from '../../../src/coordinator/strategy.js';
import { fit } from './harness.js';
import { modesFor } from '../../../src/modes/index.js';

/**
 * The catalogue's secure-aggregation table, in one place, derived from each strategy's capabilities by each
 * mode's own rule. Steps linear in the mean delta (FedAvg, FedProx, FedAvgM) run under CKKS, applied by the
 * clients; adaptive server optimizers need the mean in the clear, which SecAgg+ gives the coordinator (every
 * mean-based strategy runs there); rules over individual updates and SCAFFOLD's doubled payload need plain mode.
 */
const table: [Strategy, string][] = [
  [new FedAvg({ fit }), 'plain ckks secaggplus'],
  [new FedProx({ fit, proximalMu: 0.01 }), 'plain ckks secaggplus'],
  [new FedAvgM({ fit }), 'plain ckks secaggplus'],
  [new FedAdam({ fit }), 'plain secaggplus'],
  [new FedYogi({ fit }), 'plain secaggplus'],
  [new FedAdagrad({ fit }), 'plain secaggplus'],
  [new Scaffold({ fit, totalClients: 10 }), 'plain'],
  [new FedMedian({ fit }), 'plain'],
  [new FedTrimmedAvg({ fit }), 'plain'],
  [new Krum({ fit, byzantine: 1, minFitClients: 5 }), 'plain'],
  [new Krum({ fit, byzantine: 1, keep: 3, minFitClients: 5 }), 'plain'],
  [new Bulyan({ fit, byzantine: 1, minFitClients: 7 }), 'plain'],
];

describe('strategy x secure-aggregation modes', () => {
  for (const [strategy, modes] of table) {
    it(`${strategy.name}: ${modes}`, () => {
      expect(modesFor(strategy.capabilities).join(' ')).toBe(modes);
    });
  }

  it('every strategy has a distinct name', () => {
    expect(new Set(table.map(([s]) => s.name)).size).toBe(table.length);
  });
});
