import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientConfigSchema } from '../../src/cli/config/clientConfig.js';
import { loadConfig } from '../../src/cli/config/loadConfig.js';
import { securityPolicy } from '../../src/cli/nodeSecurity.js';
import { resolveSecurityPolicy } from '../../src/client/security/securityPolicy.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';

const dir = mkdtempSync(join(tmpdir(), 'cohort-security-config-'));
const north = encodeBase64(generateIdentity().publicKey);
const south = encodeBase64(generateIdentity().publicKey);
const client = (security: string) => {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    `name: north
coordinator: https://coordinator.example.org:8443
model: { type: mlp, hidden: [4], inputs: 3 }
data: { path: north.csv, label: target }
${security}`,
  );
  return path;
};

describe("a client config's security section", () => {
  it('becomes the node policy: mode, DP floor, statistics, and a roster of decoded keys', () => {
    const config = loadConfig(
      client(`security:
  mode: ckks
  minNoiseMultiplier: 1.1
  maxClipNorm: 0.5
  roster:
    - { name: north, publicKey: "${north}" }
    - { name: south, publicKey: "${south}" }
`),
      clientConfigSchema,
    );
    const policy = resolveSecurityPolicy(securityPolicy(config.security!), config.coordinator);
    expect(policy).toMatchObject({ mode: 'ckks', minNoiseMultiplier: 1.1, maxClipNorm: 0.5, featureStatistics: false });
    expect(policy.roster?.dealer).toBe('north');
    expect(encodeBase64(policy.roster!.keyOf('south'))).toBe(south);
  });

  it('names the field to fix: a key that is not one, an unknown risk, a ckks requirement without a roster', () => {
    expect(() => loadConfig(client(`security:\n  roster: [{ name: north, publicKey: "not-a-key" }]\n`), clientConfigSchema)).toThrow(/security\.roster\.0\.publicKey: must be a base64 Ed25519 public key/);
    expect(() => loadConfig(client(`security:\n  acceptRisks: [anything]\n`), clientConfigSchema)).toThrow(/security\.acceptRisks\.0/);
    const bare = loadConfig(client(`security:\n  mode: ckks\n`), clientConfigSchema);
    expect(() => resolveSecurityPolicy(securityPolicy(bare.security!), bare.coordinator)).toThrow(/security.mode ckks needs security.roster/);
  });
});
