import { silent } from '../helpers/silentLogger.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditTrail } from '../../src/coordinator/auditTrail.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
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
    const robust = new FedAvg({ minFitClients: 1, fit });
    Object.defineProperty(robust, 'supportedModes', { value: ['plain'] });
    await expect(fed.coordinator({ strategy: robust, initialWeights: zeros(), rounds: 1, secureAggregation: 'ckks' })).rejects.toThrow(
      /cannot run with secureAggregation: ckks \(it supports plain\)/,
    );
    await expect(
      fed.coordinator({ strategy: new FedAvg({ minFitClients: 1, fit }), initialWeights: zeros(), rounds: 1, secureAggregation: 'ckks', privacy: { noiseMultiplier: 1, delta: 1e-5 } }),
    ).rejects.toThrow(/differential privacy with secureAggregation: ckks needs privacyClipNorm/);
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
    expect(p[0]!.noiseMultiplier).toBeCloseTo(1e-6, 12); // all 3 shares arrived
    expect(p[1]!.noiseMultiplier).toBeCloseTo(1e-6 * Math.sqrt(2 / 3), 12); // h2 dropped: its share is missing
    expect(p[2]!.epsilon).toBeGreaterThan(p[1]!.epsilon);
  });
});
