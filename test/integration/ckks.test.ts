import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../../src/coordinator/store/runStore.js';
import { freePort } from '../helpers/cli.js';
import { silent } from '../helpers/silentLogger.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditTrail } from '../../src/coordinator/auditTrail.js';
import { withClipNorm } from '../../src/coordinator/aggregation/clipNormStrategy.js';
import { DpMean } from '../../src/coordinator/aggregation/dpMean.js';
import { chargedMultiplier } from '../../src/coordinator/privacyLedger.js';
import { RdpAccountant } from '../../src/privacy/rdpAccountant.js';
import { StreamingMean } from '../../src/coordinator/aggregation/streamingMean.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { FedAvgM } from '../../src/coordinator/strategies/fedAvgM.js';
import { FedAdam } from '../../src/coordinator/strategies/fedAdam.js';
import { FedMedian } from '../../src/coordinator/strategies/fedMedian.js';
import type { Strategy } from '../../src/coordinator/strategy.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { TestFederation } from '../helpers/federation.js';
import { LinearTrainer, linearData, linearZeros } from '../helpers/linearTrainer.js';

const fit = { epochs: 4, batchSize: 8, learningRate: 0.2 };
const zeros = linearZeros;
const flat = (w: Weights) => w.flatMap((t) => Array.from(t.data));

let fed: TestFederation;
afterEach(async () => fed.close());

async function federation(mode: 'plain' | 'ckks', audit?: AuditTrail) {
  fed = new TestFederation();
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({ minFitClients: 3, fit }),
    initialWeights: zeros(),
    rounds: 3,
    secureAggregation: mode,
    logger: silent,
    ...(audit ? { audit } : {}),
  });
  const handles = [0, 1, 2].map((i) => {
    const d = linearData(15 + 10 * i, i + 7);
    return fed.client(coordinator.url, `h${i}`, new LinearTrainer(d.xs, d.ys, `h${i}`), { logger: silent });
  });
  const result = await coordinator.run();
  return { result, handles };
}

describe('CKKS secure aggregation', () => {
  it('trains the same model as plaintext FedAvg while the coordinator holds ciphertexts only', async () => {
    const plain = await federation('plain');
    const plainWeights = flat(plain.result.weights);
    await fed.close();

    const events: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
    const encrypted = await federation('ckks', { append: (type, data) => void events.push({ type, data }) });
    // The coordinator has no model, only the hash and size of the encrypted sum.
    expect(encrypted.result.weights).toEqual([]);
    expect(encrypted.result.encryptedModel?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(encrypted.result.encryptedModel!.bytes).toBeGreaterThan(30_000);
    // Every client decrypted the same final model, equal to plaintext FedAvg's within CKKS's error.
    const finals = encrypted.handles.map((h) => flat(h.globalWeights()!));
    for (const f of finals) expect(f).toEqual(finals[0]);
    const diff = Math.hypot(...finals[0]!.map((v, i) => v - plainWeights[i]!));
    expect(diff / Math.hypot(...plainWeights)).toBeLessThan(1e-6);
    // Rounds and evaluations happened with all clients, and the key was dealt once, by the first name.
    expect(encrypted.result.history.every((r) => r.fit.outcomes.filter((o) => !o.failure).length === 3)).toBe(true);
    expect(encrypted.result.history.every((r) => r.evaluate!.outcomes.length === 3)).toBe(true);
    const dealing = events.filter((e) => e.type === 'ckks-key-distribution');
    expect(dealing).toHaveLength(1);
    expect(dealing[0]!.data).toMatchObject({ dealer: 'h0', generated: true, recipients: ['h1', 'h2'] });
    expect(events.filter((e) => e.type === 'upload-accepted').every((e) => e.data.kind === 'fit-result (ckks)')).toBe(true);
  });

  it('refuses strategies that need plaintext, and DP without a clip norm for the clients, at start', async () => {
    fed = new TestFederation();
    await expect(fed.coordinator({ strategy: new FedMedian({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, secureAggregation: 'ckks' })).rejects.toThrow(
      /strategy fedmedian cannot run with secureAggregation: ckks: it needs every individual update/,
    );
    await expect(fed.coordinator({ strategy: new FedAdam({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, secureAggregation: 'ckks' })).rejects.toThrow(
      /fedadam cannot run with secureAggregation: ckks: its server step is not linear in the mean update/,
    );
    await expect(
      fed.coordinator({ strategy: new FedAvg({ minFitClients: 2, fit }), initialWeights: zeros(), rounds: 1, secureAggregation: 'ckks', privacy: { noiseMultiplier: 1, delta: 1e-5 } }),
    ).rejects.toThrow(/differential privacy with secureAggregation: ckks needs privacy.clipNorm/);
    // Each client knows its own noise share: with one colluder tolerated, a round needs two shares it does not know.
    await expect(
      fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, secureAggregation: 'ckks', privacy: { noiseMultiplier: 1, delta: 1e-5, clipNorm: 1 } }),
    ).rejects.toThrow(/distributed DP with minFitClients 1 against 1 colluding client\(s\).*raise minFitClients above 1/);
  });
});

describe('CKKS membership changes', () => {
  it('gives a late joiner the key through a key holder, and keeps the sum consistent when a client drops mid-round', async () => {
    fed = new TestFederation();
    const events: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 2, fit }),
      initialWeights: zeros(),
      rounds: 4,
      secureAggregation: 'ckks',
      logger: silent,
      audit: { append: (type, data) => void events.push({ type, data }) },
      onRound: (r) => {
        if (r.round === 1) {
          const d = linearData(25, 21);
          late = fed.client(coordinator.url, 'h9-late', new LinearTrainer(d.xs, d.ys, 'h9-late'), { logger: silent });
        }
      },
    });
    let late: ReturnType<TestFederation['client']> | undefined;
    const trainers = [0, 1, 2].map((i) => {
      const d = linearData(15 + 10 * i, i + 7);
      return new LinearTrainer(d.xs, d.ys, `h${i}`);
    });
    const handles = trainers.map((t) => fed.client(coordinator.url, t.name, t, { logger: silent }));
    trainers[2]!.beforeFit = (config) => (config.round === 3 ? void handles[2]!.stop() : undefined); // leaves mid-round 3
    // The late joiner connects during rounds 2-3 (a loaded machine once took past round 4's start): hold round 3
    // open until it is connected, so round 4 is the first it is sure to be sampled into.
    trainers[0]!.beforeFit = async (config) => {
      while (config.round === 3 && !coordinator.clients.some((c) => c.name === 'h9-late')) await new Promise((r) => setTimeout(r, 20));
    };
    while (coordinator.clients.length < 3) await new Promise((r) => setTimeout(r, 20));
    const result = await coordinator.run();

    const participants = result.history.map((r) => r.fit.outcomes.filter((o) => !o.failure).map((o) => o.client).sort());
    expect(participants[0]).toEqual(['h0', 'h1', 'h2']);
    expect(participants[3]).toEqual(['h0', 'h1', 'h9-late']); // joined after round 1, got the key, trains encrypted
    expect(participants[2]).not.toContain('h2'); // dropped mid-round: not in the sum
    expect(result.history[2]!.fit.outcomes.find((o) => o.client === 'h2')!.failure!.reason).toBe('disconnected');
    const dealings = events.filter((e) => e.type === 'ckks-key-distribution').map((e) => e.data);
    expect(dealings[0]).toMatchObject({ dealer: 'h0', generated: true });
    expect(dealings.some((d) => d.generated === false && (d.recipients as string[]).includes('h9-late'))).toBe(true);
    // Everyone still in the run decrypts the same final model: the sum and the weights' total agree.
    const finals = [handles[0]!, handles[1]!, late!].map((h) => flat(h.globalWeights()!));
    expect(finals[1]).toEqual(finals[0]);
    expect(finals[2]).toEqual(finals[0]);
    expect(Math.abs(finals[0]![0]!)).toBeGreaterThan(0.1);
  });
});

describe('client-level DP under CKKS (distributed noise)', () => {
  it('has every client clip and add its noise share, accounts epsilon, and lowers the multiplier for dropouts', async () => {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 2, minAvailableClients: 2, fit }),
      initialWeights: zeros(),
      rounds: 3,
      secureAggregation: 'ckks',
      privacy: { noiseMultiplier: 1e-6, delta: 1e-5 },
      privacyClipNorm: 0.05,
      logger: silent,
    });
    const trainers = [0, 1, 2].map((i) => {
      const d = linearData(15 + 10 * i, i + 7);
      return new LinearTrainer(d.xs, d.ys, `h${i}`);
    });
    const handles = trainers.map((t) => fed.client(coordinator.url, t.name, t, { logger: silent }));
    trainers[2]!.beforeFit = (config) => (config.round === 2 ? void handles[2]!.stop() : undefined);
    while (coordinator.clients.length < 3) await new Promise((r) => setTimeout(r, 20));
    const result = await coordinator.run();
    // Noise ~0 makes the clipping visible: every round moves the model by at most C = 0.05.
    const final = flat(handles[0]!.globalWeights()!);
    expect(Math.hypot(...final)).toBeLessThanOrEqual(3 * 0.05 + 1e-4);
    expect(Math.hypot(...final)).toBeGreaterThan(0.05);
    const p = result.history.map((r) => r.privacy!);
    // Against one curious client, which knows its own share, the noise is that of the other shares present.
    expect(p[0]!.noiseMultiplier).toBeCloseTo(1e-6 * Math.sqrt(2 / 3), 12); // all 3 shares arrived, 1 known
    expect(p[1]!.noiseMultiplier).toBeCloseTo(1e-6 * Math.sqrt(1 / 3), 12); // h2 dropped: its share is missing too
    expect(p[1]).toMatchObject({ adjacency: 'replace-one' }); // shares adding up to z C, sensitivity 2C: charged z / 2
    expect(p[1]!.chargedMultiplier).toBeCloseTo(p[1]!.noiseMultiplier / 2, 15);
    expect(p[2]!.epsilon).toBeGreaterThan(p[1]!.epsilon);
  });
});

describe('server steps and adaptive clipping under CKKS (state carried encrypted, applied by clients)', () => {
  async function run(mode: 'plain' | 'ckks', strategy: () => Strategy, extra: Partial<Parameters<TestFederation['coordinator']>[0]> = {}) {
    fed = new TestFederation();
    const coordinator = await fed.coordinator({ strategy: strategy(), initialWeights: zeros(), rounds: 4, secureAggregation: mode, logger: silent, ...extra });
    const handles = [0, 1, 2].map((i) => {
      const d = linearData(15 + 10 * i, i + 7);
      return fed.client(coordinator.url, `h${i}`, new LinearTrainer(d.xs, d.ys, `h${i}`), { logger: silent });
    });
    const result = await coordinator.run();
    const weights = mode === 'plain' ? flat(result.weights) : flat(handles[0]!.globalWeights()!);
    await fed.close();
    return { result, weights };
  }
  const relativeGap = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]!)) / Math.hypot(...b);

  it('FedAvgM (momentum 0.9, server rate 0.5) trains the same model as in plaintext', async () => {
    const strategy = () => new FedAvgM({ minFitClients: 3, fit, serverMomentum: 0.9, serverLearningRate: 0.5 });
    const plain = await run('plain', strategy);
    const encrypted = await run('ckks', strategy);
    expect(encrypted.result.weights).toEqual([]);
    expect(relativeGap(encrypted.weights, plain.weights)).toBeLessThan(1e-6);
    // Momentum made a difference: FedAvg at the same rate ends elsewhere.
    const fedAvg = await run('plain', () => new FedAvg({ minFitClients: 3, fit, serverLearningRate: 0.5 }));
    expect(relativeGap(fedAvg.weights, plain.weights)).toBeGreaterThan(1e-3);
  });

  it('adaptive clipping: C follows the same trajectory as with the coordinator\'s DP aggregator, known only to clients', async () => {
    // C_0 far below every update norm: b = 0 each round, so C grows by exp(eta gamma) = exp(0.1); noise ~0.
    const clipNorm = { initialClipNorm: 0.01, targetQuantile: 0.5, countNoiseStd: 1e-7 };
    const privacy = { noiseMultiplier: 1e-7, delta: 1e-5 };
    const strategy = () => new FedAvg({ minFitClients: 3, fit });
    const plainAggregator = new DpMean(new StreamingMean(), { clipNorm, noiseMultiplier: privacy.noiseMultiplier });
    const plain = await run('plain', () => withClipNorm(strategy(), plainAggregator), { privacy });
    const encrypted = await run('ckks', strategy, { privacy, privacyClipNorm: clipNorm });
    const expected = [0, 1, 2, 3].map((r) => 0.01 * Math.exp(0.1 * r));
    encrypted.result.history.forEach((r, i) => expect(r.privacy!.clipNorm).toBeCloseTo(expected[i]!, 6));
    plain.result.history.forEach((r, i) => expect(r.privacy!.clipNorm).toBeCloseTo(expected[i]!, 6));
    expect(relativeGap(encrypted.weights, plain.weights)).toBeLessThan(1e-4);
    // Central noise is charged whole; the 3 distributed shares against one client that knows its own: sqrt(2/3).
    const epsilonAt = (z: number) => [0, 1, 2, 3].reduce((a) => a.step(1, chargedMultiplier(z)), new RdpAccountant()).epsilon(privacy.delta).epsilon;
    expect(plain.result.history[3]!.privacy!.epsilon / epsilonAt(privacy.noiseMultiplier)).toBeCloseTo(1, 9);
    expect(encrypted.result.history[3]!.privacy!.epsilon / epsilonAt(privacy.noiseMultiplier * Math.sqrt(2 / 3))).toBeCloseTo(1, 9);
  });

  it('refuses adaptive clipping whose count noise would take the whole budget, at start', async () => {
    fed = new TestFederation();
    await expect(
      fed.coordinator({
        strategy: new FedAvg({ minFitClients: 2, fit }),
        initialWeights: zeros(),
        rounds: 1,
        secureAggregation: 'ckks',
        privacy: { noiseMultiplier: 1, delta: 1e-5 },
        privacyClipNorm: { initialClipNorm: 0.1, targetQuantile: 0.5, countNoiseStd: 0.2 },
      }),
    ).rejects.toThrow(/secureAggregation: ckks: adaptive clipping: countNoiseStd 0.2 must exceed noiseMultiplier \/ 2/);
  });
});

describe('resuming an encrypted run', () => {
  it('continues from the encrypted checkpoint with the clients that hold the key, landing on the uninterrupted model', async () => {
    const strategy = () => new FedAvgM({ minFitClients: 3, fit, serverMomentum: 0.5 });
    const trainers = () =>
      [0, 1, 2].map((i) => {
        const d = linearData(15 + 10 * i, i + 7);
        return new LinearTrainer(d.xs, d.ys, `h${i}`);
      });
    fed = new TestFederation();
    const reference = await fed.coordinator({ strategy: strategy(), initialWeights: zeros(), rounds: 4, logger: silent });
    trainers().forEach((t) => fed.client(reference.url, t.name, t, { logger: silent }));
    const expected = flat((await reference.run()).weights);
    await fed.close();

    const store = new RunStore(join(mkdtempSync(join(tmpdir(), 'cohort-ckks-resume-')), 'runs.db'));
    const port = await freePort();
    const options = { strategy: strategy(), initialWeights: zeros(), rounds: 4, secureAggregation: 'ckks' as const, logger: silent, store, port };
    // Closed after round 2 completes, as a crash would leave it (its run fails at once).
    const first = await fed.coordinator({ ...options, onRound: (r) => void (r.round === 2 && first.close()) });
    const handles = trainers().map((t) => fed.client(first.url, t.name, t, { logger: silent }));
    await expect(first.run()).rejects.toThrow(/the coordinator was closed/);
    expect(store.encryptedCheckpoint(first.runId)).toMatchObject({ round: 2 });

    const second = await fed.coordinator({ ...options, strategy: strategy(), runId: first.runId, resume: true });
    const result = await second.run();
    expect(result.history.map((r) => r.round)).toEqual([3, 4]);
    const finals = handles.map((h) => flat(h.globalWeights()!));
    for (const f of finals) expect(f).toEqual(finals[0]);
    const gap = Math.hypot(...finals[0]!.map((v, i) => v - expected[i]!)) / Math.hypot(...expected);
    expect(gap).toBeLessThan(1e-6);
    store.close();
  });

  it('refuses to deal a fresh key over an encrypted checkpoint nobody connected can decrypt', async () => {
    fed = new TestFederation();
    const store = new RunStore(join(mkdtempSync(join(tmpdir(), 'cohort-ckks-resume-')), 'runs.db'));
    const options = { strategy: new FedAvg({ minFitClients: 2, fit }), initialWeights: zeros(), rounds: 3, secureAggregation: 'ckks' as const, logger: silent, store };
    const first = await fed.coordinator({ ...options, onRound: (r) => void (r.round === 1 && first.close()) });
    [0, 1].map((i) => fed.client(first.url, `h${i}`, new LinearTrainer(linearData(20, i).xs, linearData(20, i).ys, `h${i}`), { logger: silent }));
    await expect(first.run()).rejects.toThrow();
    await fed.close(); // the clients, and the key in their memory, are gone

    const second = await fed.coordinator({ ...options, runId: first.runId, resume: true });
    [0, 1].map((i) => fed.client(second.url, `h${i}`, new LinearTrainer(linearData(20, i).xs, linearData(20, i).ys, `h${i}`), { logger: silent }));
    await expect(second.run()).rejects.toThrow(/no connected client holds this run's CKKS key, and the encrypted global model needs it/);
    store.close();
  });
});
