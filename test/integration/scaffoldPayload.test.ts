import { afterEach, describe, expect, it } from 'vitest';
import type { CorrectedFitOutcome, FitConfig } from '../../src/client/trainer.js';
import { Scaffold } from '../../src/coordinator/strategies/scaffold.js';
import { joinScaffold } from '../../src/protocol/scaffoldWire.js';
import { encodedByteLength } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../helpers/constantShiftTrainer.js';
import { TestFederation } from '../helpers/federation.js';
import { silent } from '../helpers/silentLogger.js';

const SIZE = 120_000;
const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: Float32Array.from({ length: SIZE }, (_, i) => (i % 1024) / 64) }];

/** SCAFFOLD's fit: one step of size `lr` against the correction c - c_i, on top of a constant shift. */
class CorrectedShiftTrainer extends ConstantShiftTrainer {
  /** The tensor names of every model this trainer was handed (fit and evaluate): always the model's, never [x; c]. */
  readonly received: string[][] = [];

  override setWeights(weights: Weights): void {
    this.received.push(weights.map((t) => t.name));
    super.setWeights(weights);
  }

  async fitWithCorrection(config: FitConfig, correction: Weights): Promise<CorrectedFitOutcome> {
    const lr = 0.5;
    const outcome = await this.fit(config);
    const shifted = this.getWeights();
    this.setWeights(shifted.map((t, i) => ({ name: t.name, shape: t.shape, data: t.data.map((v, j) => v - lr * correction[i]!.data[j]!) })));
    this.received.pop(); // that one was this trainer's own step
    return { ...outcome, steps: 1, learningRate: lr };
  }
}

const CLIENTS = [
  { name: 'a', shift: 0.5, examples: 10 },
  { name: 'b', shift: 0.25, examples: 30 },
  { name: 'c', shift: 0.125, examples: 20 },
] as const;

let fed: TestFederation;
afterEach(async () => fed.close());

async function run(fractionEvaluate: number, rounds: number) {
  fed = new TestFederation();
  const coordinator = await fed.coordinator({
    strategy: new Scaffold({ minFitClients: 3, totalClients: 3, fractionEvaluate, fit: { epochs: 1, batchSize: 1, learningRate: 0.5 } }),
    initialWeights: initial(),
    rounds,
    logger: silent,
  });
  let down = 0;
  coordinator.on('traffic', ({ direction, bytes }) => void (direction === 'out' && (down += bytes)));
  const trainers = CLIENTS.map(({ shift, examples }) => new CorrectedShiftTrainer(initial(), shift, examples));
  const handles = CLIENTS.map(({ name }, i) => fed.client(coordinator.url, name, trainers[i]!, { logger: silent }));
  const result = await coordinator.run();
  await Promise.all(handles.map((h) => h.done));
  const finals = handles.map((h) => h.globalWeights()!);
  const weights = result.weights[0]!.data.slice();
  await fed.close();
  return { down, result, weights, finals, trainers };
}

/**
 * Under SCAFFOLD a fit task downloads [x; c]. Evaluate tasks (and the final model) carry the same [x; c], read as
 * the model x by the client, so the next round's fit names the payload the client holds: x travels once a round,
 * not twice (evaluate's x, then fit's [x; c]).
 */
describe('SCAFFOLD payloads', () => {
  it('send [x; c] once a round to a client that evaluates: the next fit and the final model name it', async () => {
    const rounds = 3;
    const evaluated = await run(1, rounds);
    const payloadBytes = encodedByteLength(joinScaffold(initial(), initial()));
    // [x0; c0] for round 1's fit, then each round's evaluate [x_r; c_r], which round r + 1's fit and the final reuse.
    expect(evaluated.down).toBe(CLIENTS.length * (rounds + 1) * payloadBytes);
    // Evaluation and the kept model are x alone, the run's last global to the bit.
    for (const final of evaluated.finals) expect(final.map((t) => t.name)).toEqual(['w']);
    for (const final of evaluated.finals) expect(final[0]!.data).toEqual(evaluated.weights);
    for (const t of evaluated.trainers) expect(t.received.every((names) => names.length === 1 && names[0] === 'w')).toBe(true);
    expect(evaluated.result.history.every((r) => r.evaluate?.outcomes.length === 3)).toBe(true);

    // The same training as a run that evaluates nothing (whose fits all carry their bytes): the same model.
    const blind = await run(0, rounds);
    expect(blind.weights).toEqual(evaluated.weights);
    expect(evaluated.weights[5]).not.toBe(initial()[0]!.data[5]); // it trained
    // That run sends every fit's [x; c] and then the last x.
    expect(blind.down).toBe(CLIENTS.length * (rounds * payloadBytes + encodedByteLength(initial())));
  });
});
