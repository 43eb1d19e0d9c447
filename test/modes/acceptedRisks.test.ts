import { describe, expect, it } from 'vitest';
import { AccessList } from '../../src/coordinator/accessList.js';
import type { CoordinatorOptions } from '../../src/coordinator/coordinatorOptions.js';
import { FedAvg } from '../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { MODES, refuseUnacceptedRisks } from '../../src/modes/index.js';

const base: CoordinatorOptions = { strategy: new FedAvg({ fit: { epochs: 1, batchSize: 1, learningRate: 1 } }), initialWeights: [], rounds: 1 };
const listed = AccessList.of([{ name: 'north', publicKey: generateIdentity().publicKey, role: 'client' }]);
const tls = { cert: 'PEM', key: 'PEM' };

describe('secure aggregation within reach of other machines', () => {
  it('refuses ckks on a non-loopback host with open access or without TLS, unless the operator accepts the risk', () => {
    const ckks = MODES.ckks;
    expect(() => refuseUnacceptedRisks(ckks, { ...base, host: '0.0.0.0' })).toThrow(/ckks with open access on 0\.0\.0\.0.*acceptRisks: \[open-access\]/);
    expect(() => refuseUnacceptedRisks(ckks, { ...base, host: '10.1.2.3', access: listed })).toThrow(/ckks over plain http on 10\.1\.2\.3.*configure tls/);
    expect(() => refuseUnacceptedRisks(ckks, { ...base, host: '10.1.2.3', access: listed, tls })).not.toThrow();
    expect(() => refuseUnacceptedRisks(ckks, { ...base, host: '0.0.0.0', acceptRisks: ['open-access', 'plain-http'] })).not.toThrow();
    expect(() => refuseUnacceptedRisks(ckks, { ...base, host: '0.0.0.0', acceptRisks: ['open-access'] })).toThrow(/plain http/);
  });

  it('lets loopback (simulations, tests) and plain mode, which protects nothing, through', () => {
    expect(() => refuseUnacceptedRisks(MODES.ckks, { ...base, host: '127.0.0.1' })).not.toThrow();
    expect(() => refuseUnacceptedRisks(MODES.ckks, { ...base, host: 'localhost' })).not.toThrow();
    expect(() => refuseUnacceptedRisks(MODES.plain, { ...base, host: '0.0.0.0' })).not.toThrow();
  });
});
