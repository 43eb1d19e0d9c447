import { describe, expect, it } from 'vitest';
import { CkksContext } from '../../../src/crypto/ckks/ckksContext.js';
import { CkksError } from '../../../src/crypto/ckks/ckksError.js';

describe('CkksContext (real node-seal)', () => {
  it('builds the default summation parameters: N = 4096, one 60-bit prime, scale 2^40, 128-bit secure', async () => {
    const ctx = await CkksContext.create();
    try {
      expect(ctx.valuesPerCiphertext).toBe(4096);
      expect(ctx.scale).toBe(2 ** 40);
      expect(ctx.dataPrimeCount).toBe(1);
      // Headroom of the sum: about 2^19, shared by maxContributors (100) clients.
      expect(ctx.sumBound).toBeGreaterThan(2 ** 19 - 2);
      expect(ctx.sumBound).toBeLessThan(2 ** 19);
      expect(ctx.contributionBound).toBeCloseTo(ctx.sumBound / 100, 9);
      expect(ctx.ciphertextCount(4097)).toBe(2);
      expect(ctx.ciphertextCount(8193)).toBe(3);
      expect(ctx.context.parametersSet()).toBe(true);
    } finally {
      ctx.dispose();
    }
  });

  it('takes N = 8192 (8192 values a ciphertext)', async () => {
    const ctx = await CkksContext.create({ polyModulusDegree: 8192 });
    expect(ctx.valuesPerCiphertext).toBe(8192);
    ctx.dispose();
  });

  it('refuses a coefficient modulus beyond the 128-bit security limit, naming the limit', async () => {
    await expect(CkksContext.create({ coeffModulusBits: [60, 60] })).rejects.toThrow(
      'a 120-bit coefficient modulus is not 128-bit secure at N = 4096: SEAL allows at most 109 bits',
    );
    await expect(CkksContext.create({ polyModulusDegree: 1024, coeffModulusBits: [30], scaleBits: 20 })).rejects.toThrow(/at most 27 bits/);
  });

  it('refuses parameters SEAL cannot build or that leave no headroom', async () => {
    await expect(CkksContext.create({ coeffModulusBits: [61] })).rejects.toThrow(CkksError);
    await expect(CkksContext.create({ scaleBits: 59 })).rejects.toThrow(/no headroom/);
    await expect(CkksContext.create({ polyModulusDegree: 4000 })).rejects.toThrow(/power of two/);
  });
});
