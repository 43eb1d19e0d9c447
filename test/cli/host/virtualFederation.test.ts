import { describe, expect, it } from 'vitest';
import { experimentConfigSchema, type ExperimentConfigInput } from '../../../src/cli/config/experimentConfig.js';
import { VirtualFederation, virtualClientName } from '../../../src/cli/simulation/virtualFederation.js';
import { keyFingerprint } from '../../../src/crypto/identity.js';
import { AccessList } from '../../../src/coordinator/accessList.js';

const secret = new Uint8Array(64).map((_, i) => (i * 31 + 5) & 0xff);
const base: ExperimentConfigInput = {
  rounds: 3,
  model: { type: 'mlp', outputs: 10, inputs: 784 },
  dataDefaults: { path: 'mnist.csv', label: 'label' },
  partition: { type: 'iid', clients: 1_000 },
  access: { mode: 'virtual-clients', key: 'hosts.key' },
};
const federation = (overrides: Partial<ExperimentConfigInput> = {}) => new VirtualFederation(experimentConfigSchema.parse({ ...base, ...overrides }), secret);
const key42 = (f: VirtualFederation) => keyFingerprint(f.identity(42).publicKey);

describe('virtual clients across hosts', () => {
  it("names clients as cohort simulate does, so name order is index order", () => {
    expect(virtualClientName(7, 10_000)).toBe('client-0007');
    expect(virtualClientName(9_999, 10_000)).toBe('client-9999');
    expect(federation().name(42)).toBe('client-042');
  });

  it("binds each client's key to what decides its rows: a host with another partition, seed or data derives keys the coordinator does not hold", () => {
    const reference = key42(federation());
    expect(key42(federation())).toBe(reference);
    // What does not decide a client's rows leaves its key alone.
    expect(key42(federation({ rounds: 9, training: { learningRate: 0.5 } }))).toBe(reference);
    expect(key42(federation({ partition: { type: 'dirichlet', clients: 1_000, alpha: 0.5 } }))).not.toBe(reference);
    expect(key42(federation({ seed: 43 }))).not.toBe(reference);
    expect(key42(federation({ dataDefaults: { path: 'mnist.csv', label: 'label', testFraction: 0.3 } }))).not.toBe(reference);
    expect(key42(federation({ name: 'another-study' }))).not.toBe(reference);
    expect(key42(new VirtualFederation(experimentConfigSchema.parse(base), secret.map((v) => v ^ 0x80)))).not.toBe(reference);
  });

  it("gives the coordinator an allowlist that admits each host's client under its name and no other", () => {
    const f = federation({ partition: { type: 'iid', clients: 50 } });
    const access = AccessList.of(f.allowlist());
    expect(access.peers).toHaveLength(50);
    expect(access.decide('client-17', f.identity(17).publicKey).ok).toBe(true);
    // Client 18's key under client 17's name: refused.
    expect(access.decide('client-17', f.identity(18).publicKey)).toMatchObject({ ok: false, reason: expect.stringMatching(/is not the key the access list holds for "client-17"/) as unknown });
    expect(() => f.identity(50)).toThrow('virtual client 50 is outside 0..49');
  });

  it('refuses virtual-clients access without a partition, saying what to add', () => {
    const { partition: _, ...noPartition } = base;
    expect(() => experimentConfigSchema.parse(noPartition)).toThrow(/virtual-clients admits the virtual clients of a partition: add partition/);
  });
});
