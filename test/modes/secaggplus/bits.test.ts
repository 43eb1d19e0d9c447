import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../../src/cli/config/experimentConfig.js';
import { clientSecurityConfigSchema } from '../../../src/cli/config/securityConfig.js';
import { resolveSecurityPolicy } from '../../../src/client/security/securityPolicy.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { packBits, packedLength } from '../../../src/crypto/secagg/bitPacking.js';
import { generateIdentity, type Identity } from '../../../src/crypto/identity.js';
import { MaskedSum } from '../../../src/modes/secaggplus/maskedSum.js';
import { checkSecAggPlusOptions, resolveRound } from '../../../src/modes/secaggplus/settings.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../../helpers/constantShiftTrainer.js';
import { TestFederation } from '../../helpers/federation.js';
import { silent } from '../../helpers/silentLogger.js';
import { CLIENTS, examplesOf, names, runWithDropouts, shiftOf, SIZE, survivorsSum } from './dropoutFederation.js';

// Rings narrower than 32 bits: values quantized into Z_(2^b), masked there, packed at b bits a value on the wire.
let fed: TestFederation | undefined;
afterEach(async () => fed?.close());

describe.each([16, 20])('SecAgg+ in Z_(2^%i), a tenth of the clients leaving before upload and 3 tenths after', (bits) => {
  it('unmasks the survivors\' quantized sum mod 2^b to the bit, from uploads of ceil(n b / 8) bytes', async () => {
    fed = new TestFederation();
    const dropouts = await runWithDropouts(fed, { neighbours: 18, threshold: 10, bits }, 1);
    const result = await dropouts.run;
    const [u] = dropouts.unmasked;
    const drops = dropouts.schedule.at(1);
    expect(dropouts.left.filter((l) => l.step === 'before-upload').map((l) => l.name).sort()).toEqual(drops.beforeUpload);
    expect(dropouts.left.filter((l) => l.step === 'after-upload').map((l) => l.name).sort()).toEqual(drops.afterUpload);
    expect(drops.beforeUpload).toHaveLength(2);
    expect(drops.afterUpload).toHaveLength(6);
    expect(u!.bits).toBe(bits);
    expect(u!.survivors).toEqual(names.filter((n) => !drops.beforeUpload.includes(n)));
    expect(u!.droppedMaskKeys).toBe(2);
    // Every encoding lies in [0, floor((2^b - 1) / 20)]: the cohort's sum cannot wrap mod 2^b.
    const levels = Math.floor((2 ** bits - 1) / CLIENTS);
    for (const values of dropouts.encoded.get(1)!.values()) expect(Math.max(...values.subarray(0, 4096))).toBeLessThanOrEqual(levels);
    expect(u!.sumSha256).toBe(createHash('sha256').update(survivorsSum(dropouts, u!, bits)).digest('hex'));
    // The wire: every byte the coordinator's sockets received in the whole run (18 packed uploads, the key
    // exchange, framing, control) is within 1.1x of the packed uploads alone; 32-bit words would be 32 / b x.
    const uploads = u!.survivors.length * packedLength(SIZE, bits);
    const received = dropouts.coordinator.socketBytes.received;
    expect(received).toBeGreaterThan(uploads);
    expect(received / uploads).toBeLessThan(1.1);
    // The model moved by the survivors' example-weighted mean, within the quantization error: each survivor's
    // weighted value is off by less than one step of 2 x 8 / levels.
    const weight = u!.survivors.reduce((s, n) => s + examplesOf(n), 0);
    const shift = u!.survivors.reduce((s, n) => s + examplesOf(n) * shiftOf(n), 0) / weight;
    const cohortExamples = names.reduce((s, n) => s + examplesOf(n), 0);
    const bound = (u!.survivors.length * (16 / levels)) / (weight / cohortExamples);
    const w = result.weights[0]!.data;
    for (const i of [0, 1, 4_099, SIZE - 1]) expect(Math.abs(w[i]! - ((i % 512) / 256 + shift))).toBeLessThan(bound);
  }, 240_000);
});

describe('a packed upload and a ring below the floor', () => {
  it('the coordinator refuses a packed upload of the wrong length, naming the length expected, and it leaves no trace in the sum', async () => {
    const sum = new MaskedSum(SIZE, 20);
    expect(sum.uploadBytes).toBe(300_000);
    const target = sum.target(new Set(['a', 'b']));
    const meta = { kind: 'fit-result', masked: true } as Parameters<typeof target.open>[0];
    const client = (name: string) => ({ name }) as Parameters<typeof target.open>[1];
    // 32-bit words (the old layout) where 20-bit values are due: refused at the first byte beyond 300,000.
    const words = new Uint8Array(4 * SIZE).fill(7);
    const long = await target.open(meta, client('a'));
    expect(() => long.write(words)).toThrow(/the masked update is longer than expected: 120000 values at 20 bits pack into 300000 bytes/);
    long.abort('refused');
    // One byte short: refused at the end.
    const short = await target.open(meta, client('a'));
    short.write(new Uint8Array(299_999).fill(7));
    expect(() => short.end()).toThrow(/the masked update has 299999 bytes; 120000 values at 20 bits pack into 300000 bytes/);
    short.abort('refused');
    // The right length with a padding bit set (120,000 x 20 bits ends on a byte: use 7 values at 20 bits, 140 bits
    // in 18 bytes, 4 spare): refused at the end too.
    const small = new MaskedSum(7, 20);
    const padded = await small.target(new Set(['a'])).open(meta, client('a'));
    const bytes = packBits(new Uint32Array(7).fill(3), 20);
    bytes[17]! |= 0x80;
    padded.write(bytes);
    expect(() => padded.end()).toThrow(/the last 4 padding bits of the packed values are not zero/);
    expect(sum.sum.every((v) => v === 0)).toBe(true);
    // The right length goes in (the control).
    const right = await target.open(meta, client('b'));
    right.write(packBits(new Uint32Array(SIZE).fill(5), 20));
    right.end();
    right.commit();
    expect(sum.contributors).toEqual(['b']);
    expect(sum.sum[SIZE - 1]).toBe(5);
  });

  it('a node refuses a task whose ring is below its security.secaggplus.minBits: its update never leaves, the round goes on without it', async () => {
    fed = new TestFederation();
    const size = 100_000;
    const start = (): Weights => [{ name: 'w', shape: [size], data: new Float32Array(size) }];
    const sites = ['a', 'b', 'c', 'd', 'e', 'careful'];
    const identities = Object.fromEntries(sites.map((n) => [n, generateIdentity()])) as Record<string, Identity>;
    const roster = sites.map((name) => ({ name, identityKey: identities[name]!.publicKey }));
    const audits: { type: string; data: Readonly<Record<string, unknown>> }[] = [];
    const coordinator = await fed.coordinator({
      strategy: new FedAvg({ minFitClients: 5, minAvailableClients: 6, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
      initialWeights: start(),
      rounds: 1,
      roundTimeoutMs: 120_000,
      secureAggregation: 'secaggplus',
      secaggplus: { bits: 12, clippingRange: 1 },
      logger: silent,
    });
    for (const name of sites) {
      // 'careful' would add 100 to every value: any trace of it in the mean shows.
      fed.client(coordinator.url, name, new ConstantShiftTrainer(start(), name === 'careful' ? 100 : 0.5, 10), {
        logger: silent,
        identity: identities[name]!,
        security: { mode: 'secaggplus', roster, ...(name === 'careful' ? { secaggplus: { minBits: 16 } } : {}) },
        ...(name === 'careful' ? { audit: { append: (type: string, data: Readonly<Record<string, unknown>>) => void audits.push({ type, data }) } } : {}),
      });
    }
    const result = await coordinator.run();
    const failed = result.history[0]!.fit!.outcomes.filter((o) => 'failure' in o && o.failure !== undefined);
    expect(failed.map((o) => o.client)).toEqual(['careful']);
    expect(JSON.stringify(failed[0])).toMatch(/ring of 12 bits, below this node's security.secaggplus.minBits 16/);
    // Refused at the task's header, before the model was downloaded or trained on; nothing was uploaded.
    expect(audits.filter((x) => x.type === 'task-refused').map((x) => x.data.reason)).toEqual(['the task quantizes into a ring of 12 bits, below this node\'s security.secaggplus.minBits 16']);
    expect(audits.some((x) => x.type === 'upload-sent')).toBe(false);
    // The five others' mean shift (0.5 within a step of 2 / floor(4095 / 6) per client), nothing of careful's 100.
    const w = result.weights[0]!.data;
    for (const i of [0, 50_000, size - 1]) expect(Math.abs(w[i]! - 0.5)).toBeLessThan(0.02);
  }, 120_000);

  it('bits are read from the experiment YAML and the node\'s floors, 8 to 32, and a ring too narrow for the cohort names the smallest that works', () => {
    const experiment = (secaggplus: unknown) => experimentConfigSchema.safeParse({ rounds: 1, model: { type: 'mlp' }, secureAggregation: 'secaggplus', secaggplus });
    expect(experiment({ bits: 16 }).success).toBe(true);
    expect(experiment({ bits: 7 }).success).toBe(false);
    expect(experiment({ bits: 33 }).success).toBe(false);
    expect(() => checkSecAggPlusOptions({ bits: 7 })).toThrow(/secaggplus.bits must be an integer from 8 to 32, got 7/);
    expect(() => checkSecAggPlusOptions({ bits: 16.5 })).toThrow(/secaggplus.bits must be an integer from 8 to 32/);
    expect(resolveRound({ bits: 8 }, 100).bits).toBe(8);
    expect(() => resolveRound({ bits: 8 }, 200)).toThrow(/secaggplus.bits 8 cannot hold the sum of 200 clients' values .* the smallest that works for this cohort is 9/);
    expect(resolveRound({ bits: 9 }, 200).bits).toBe(9);
    expect(resolveRound({}, 200).bits).toBe(32);
    expect(clientSecurityConfigSchema.parse({ mode: 'secaggplus', secaggplus: { minBits: 16 } }).secaggplus).toEqual({ minBits: 16 });
    expect(() => clientSecurityConfigSchema.parse({ secaggplus: { minBits: 40 } })).toThrow();
    const roster = [{ name: 'a', identityKey: generateIdentity().publicKey }];
    expect(() => resolveSecurityPolicy({ mode: 'secaggplus', roster, secaggplus: { minBits: 4 } }, 'http://127.0.0.1:1')).toThrow(/security.secaggplus.minBits must be an integer from 8 to 32, got 4/);
  });
});
