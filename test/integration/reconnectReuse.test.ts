import { afterEach, describe, expect, it } from 'vitest';
import { ByteCountingProxy } from '../../bench/lib/byteCountingProxy.js';
import type { ClientEvent, ClientHandle } from '../../src/client/clientOptions.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { encodedByteLength } from '../../src/protocol/tensorCodec.js';
import { specOf, type Weights } from '../../src/protocol/tensors.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { ConstantShiftTrainer } from '../helpers/constantShiftTrainer.js';
import { TestFederation } from '../helpers/federation.js';
import { silent } from '../helpers/silentLogger.js';

/**
 * "No payload travels twice" across a network blip: the coordinator remembers what each client acknowledged by
 * name, not by connection, so a node whose connection drops after it evaluated round 1's global trains round 2
 * from the copy it holds instead of downloading it again. A node that restarted (same name and key, nothing
 * held) says so and gets the bytes: the run goes on either way.
 */
const SIZE = 120_000;
const ROUNDS = 3;
const initial = (): Weights => [
  { name: 'w', shape: [SIZE - 10], data: new Float32Array(SIZE - 10) },
  { name: 'b', shape: [10], data: new Float32Array(10) },
];
const modelBytes = encodedByteLength(specOf(initial()));

let fed: TestFederation;
let proxy: ByteCountingProxy | undefined;
afterEach(async () => {
  await fed.close();
  await proxy?.close();
});

/** A 2-client run where h0 goes through a proxy whose connection is cut once h0 has evaluated round 1. */
async function runWithBlip(
  h0Options: { identity?: ReturnType<typeof generateIdentity> } = {},
  afterCut: (h0: ClientHandle, url: string) => Promise<void> | void = () => undefined,
) {
  fed = new TestFederation();
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({ minFitClients: 2, fit: { epochs: 1, batchSize: 8, learningRate: 0.1 } }),
    initialWeights: initial(),
    rounds: ROUNDS,
    logger: silent,
  });
  const target = new URL(coordinator.url);
  proxy = await ByteCountingProxy.start({ host: target.hostname, port: Number(target.port) });
  let cut = false;
  const onEvent = (event: ClientEvent) => {
    if (cut || event.type !== 'evaluate' || event.round !== 1) return;
    cut = true;
    proxy!.dropConnections();
    void afterCut(h0, proxy!.url);
  };
  const h0 = fed.client(proxy.url, 'h0', new ConstantShiftTrainer(initial(), 0.25, 10), { logger: silent, onEvent, ...h0Options });
  const h1 = fed.client(coordinator.url, 'h1', new ConstantShiftTrainer(initial(), 0.75, 30), { logger: silent });
  const result = await coordinator.run();
  return { result, h0, h1, cut: () => cut };
}

describe('a client that reconnects', () => {
  it('is not sent the global it already holds: one download per distinct global, the blip included', async () => {
    const { result, h0, h1, cut } = await runWithBlip();
    expect(cut()).toBe(true);
    expect(proxy!.connections).toBe(2);
    expect(result.history).toHaveLength(ROUNDS);
    // h0 downloads the initial model and each round's new global once (evaluate r, then fit r + 1 and the final
    // model name it): ROUNDS + 1 models. Re-sending round 1's global after the reconnect would add a whole one.
    const down = proxy!.down;
    expect(down).toBeGreaterThanOrEqual((ROUNDS + 1) * modelBytes);
    expect(down).toBeLessThan((ROUNDS + 1.5) * modelBytes);
    // The reused copy trained: the run's mean is exact (shifts 0.25 and 0.75 weighted 10:30 = 0.625 a round).
    const expected = Math.fround(ROUNDS * 0.625);
    expect(result.weights[0]!.data[0]).toBeCloseTo(expected, 5);
    expect(h0.globalWeights()![0]!.data).toEqual(result.weights[0]!.data);
    expect(h1.globalWeights()![0]!.data).toEqual(result.weights[0]!.data);
  });

  it('that restarted holds nothing: it refuses the named payload and gets the bytes, and the run ends the same', async () => {
    const identity = generateIdentity();
    let restarted: ReturnType<TestFederation['client']> | undefined;
    const { result, cut } = await runWithBlip({ identity }, async (h0, url) => {
      await h0.stop();
      restarted = fed.client(url, 'h0', new ConstantShiftTrainer(initial(), 0.25, 10), { logger: silent, identity });
    });
    expect(cut()).toBe(true);
    expect(result.history).toHaveLength(ROUNDS);
    expect(result.weights[0]!.data[0]).toBeCloseTo(Math.fround(ROUNDS * 0.625), 5);
    // The restarted node was sent round 1's global again (it held nothing), so more than ROUNDS + 1 models went down.
    expect(proxy!.down).toBeGreaterThanOrEqual((ROUNDS + 2) * modelBytes);
    expect(restarted!.globalWeights()![0]!.data).toEqual(result.weights[0]!.data);
  });
});
