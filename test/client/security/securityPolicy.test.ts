import { describe, expect, it } from 'vitest';
import { Roster } from '../../../src/client/security/roster.js';
import { isLoopbackHost, resolveSecurityPolicy } from '../../../src/client/security/securityPolicy.js';
import { fitTaskRefusal, instructedNoiseMultiplier } from '../../../src/client/security/taskGate.js';
import { generateIdentity } from '../../../src/crypto/identity.js';
import { updateNoiseMultiplier } from '../../../src/privacy/adaptiveClipping.js';

const entries = ['south', 'north', 'central'].map((name) => ({ name, identityKey: generateIdentity().publicKey }));

describe('the client security policy', () => {
  it('computes the dealer from the roster (first name), and checks names and keys against it', () => {
    const roster = new Roster(entries);
    expect(roster.dealer).toBe('central');
    expect(roster.size).toBe(3);
    expect(roster.keyOf('north', entries[1]!.identityKey)).toEqual(entries[1]!.identityKey);
    expect(() => roster.keyOf('west')).toThrow(/"west" is not on this node's federation roster/);
    expect(() => roster.keyOf('north', entries[0]!.identityKey)).toThrow(/not the one the roster lists/);
    expect(() => roster.keyOf('north', new Uint8Array(5))).toThrow(/a 5-byte key/);
    expect(() => new Roster([...entries, entries[0]!])).toThrow(/names "south" twice/);
  });

  it('refuses a ckks requirement without a roster, and plain http to another machine unless accepted', () => {
    expect(() => resolveSecurityPolicy({ mode: 'ckks' }, 'https://c.example.org')).toThrow(/needs security.roster/);
    expect(() => resolveSecurityPolicy({ mode: 'ckks', roster: entries }, 'http://c.example.org:8080')).toThrow(/plain http to c.example.org.*acceptRisks: \[plain-http\]/);
    expect(resolveSecurityPolicy({ mode: 'ckks', roster: entries, acceptRisks: ['plain-http'] }, 'http://c.example.org:8080').mode).toBe('ckks');
    expect(resolveSecurityPolicy({ mode: 'ckks', roster: entries }, 'http://127.0.0.1:8080').featureStatistics).toBe(false);
    expect(resolveSecurityPolicy(undefined, 'http://c.example.org').featureStatistics).toBe(true);
    expect(() => resolveSecurityPolicy({ maxClipNorm: 0 }, 'http://127.0.0.1')).toThrow(/maxClipNorm must be positive/);
    expect(['localhost', '127.3.2.1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1', '127.0.0.1.example.org', 'example.org'].some(isLoopbackHost)).toBe(false);
  });

  it('reads the noise multiplier the shares add up to, inverting the adaptive clipping split', () => {
    const fixed = { weight: 0.25, cohortSize: 4, serverLearningRate: 1, serverMomentum: 0, dp: { clipNorm: 1, noiseShare: 1.1 / 2 } };
    expect(instructedNoiseMultiplier(fixed)).toBeCloseTo(1.1, 12);
    // The coordinator splits z = 1.1 into z_delta for the sum and sigma_b = 2 for the count (Andrew et al.).
    const zDelta = updateNoiseMultiplier(1.1, 2);
    const adaptive = { ...fixed, dp: { clipNorm: { initialClipNorm: 0.1, targetQuantile: 0.5, learningRate: 0.2, countNoiseShare: 2 / 2 }, noiseShare: zDelta / 2 } };
    expect(instructedNoiseMultiplier(adaptive)).toBeCloseTo(1.1, 12);
    expect(instructedNoiseMultiplier({ ...fixed, dp: { ...adaptive.dp, clipNorm: { ...adaptive.dp.clipNorm, countNoiseShare: 0 } } })).toBe(0);
  });

  it("lets the node's own local DP meet its floor where the task's noise cannot be checked", () => {
    const policy = resolveSecurityPolicy({ minNoiseMultiplier: 1, maxClipNorm: 2 }, 'http://127.0.0.1');
    expect(fitTaskRefusal(policy, { mode: 'plain', clipNorm: 1 })).toMatch(/in plain mode the coordinator adds it/);
    expect(fitTaskRefusal(policy, { mode: 'plain', clipNorm: 1 }, { clipNorm: 1, noiseMultiplier: 1.5 })).toBeUndefined();
    expect(fitTaskRefusal(policy, { mode: 'plain', clipNorm: 1 }, { clipNorm: 3, noiseMultiplier: 1.5 })).toMatch(/coordinator adds it/);
    const clipOnly = resolveSecurityPolicy({ maxClipNorm: 2 }, 'http://127.0.0.1');
    expect(fitTaskRefusal(clipOnly, { mode: 'plain', clipNorm: 1 })).toBeUndefined();
    expect(fitTaskRefusal(clipOnly, { mode: 'plain', clipNorm: undefined })).toMatch(/clips to no norm/);
  });
});
