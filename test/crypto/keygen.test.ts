import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKeygen } from '../../src/cli/keygen.js';
import { keyFingerprint } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import { readSecretKeyFile } from '../../src/crypto/keyFile.js';

describe('cohort keygen', () => {
  it('writes a private key file and prints its public key and fingerprint', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cohort-keygen-')), 'hospital-a.key');
    const lines: string[] = [];
    runKeygen(path, (line) => lines.push(line));
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);
    const id = readSecretKeyFile(path);
    const printed = lines.join('\n');
    expect(printed).toContain(`wrote a new secret key to ${path} (mode 0600)`);
    expect(lines).toContain(`public key: ${encodeBase64(id.publicKey)}`);
    expect(lines).toContain(`fingerprint: ${keyFingerprint(id.publicKey)}`);
  });

  it('refuses to overwrite an existing key and prints nothing', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cohort-keygen-')), 'hospital-a.key');
    runKeygen(path, () => undefined);
    const before = readFileSync(path, 'utf8');
    const lines: string[] = [];
    expect(() => runKeygen(path, (line) => lines.push(line))).toThrow(`${path} already exists; refusing to overwrite a key file`);
    expect(lines).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('gives a new identity each time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-keygen-'));
    runKeygen(join(dir, 'a.key'), () => undefined);
    runKeygen(join(dir, 'b.key'), () => undefined);
    expect(readSecretKeyFile(join(dir, 'a.key')).publicKey).not.toEqual(readSecretKeyFile(join(dir, 'b.key')).publicKey);
  });
});
