import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateIdentity, keyFingerprint } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import { readSecretKeyFile, writeSecretKeyFile } from '../../src/crypto/keyFile.js';

const posix = process.platform !== 'win32';
const tempDir = () => mkdtempSync(join(tmpdir(), 'cohort-keyfile-'));

describe('secret key files', () => {
  it('writes a 0600 file that reads back as the same identity', () => {
    const path = join(tempDir(), 'north.key');
    const id = generateIdentity();
    writeSecretKeyFile(path, id);
    if (posix) expect(statSync(path).mode & 0o777).toBe(0o600);
    const back = readSecretKeyFile(path);
    expect(back.publicKey).toEqual(id.publicKey);
    expect(back.secretKey).toEqual(id.secretKey);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(`# public key ${encodeBase64(id.publicKey)} fingerprint ${keyFingerprint(id.publicKey)}\n`);
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([encodeBase64(id.secretKey)]);
  });

  it('never overwrites an existing file', () => {
    const path = join(tempDir(), 'north.key');
    const first = generateIdentity();
    writeSecretKeyFile(path, first);
    const before = readFileSync(path, 'utf8');
    expect(() => writeSecretKeyFile(path, generateIdentity())).toThrow(`${path} already exists; refusing to overwrite`);
    expect(readFileSync(path, 'utf8')).toBe(before);
    const other = join(tempDir(), 'notes.txt');
    writeFileSync(other, 'not a key');
    expect(() => writeSecretKeyFile(other, first)).toThrow(/already exists/);
    expect(readFileSync(other, 'utf8')).toBe('not a key');
  });

  it('refuses to write an identity whose halves disagree', () => {
    const id = generateIdentity();
    const dir = tempDir();
    expect(() => writeSecretKeyFile(join(dir, 'a.key'), { publicKey: generateIdentity().publicKey, secretKey: id.secretKey })).toThrow(/public key is not the one embedded/);
    const mixed = new Uint8Array([...id.secretKey.subarray(0, 32), ...generateIdentity().publicKey]);
    expect(() => writeSecretKeyFile(join(dir, 'b.key'), { publicKey: mixed.slice(32), secretKey: mixed })).toThrow(/inconsistent/);
    expect(() => writeSecretKeyFile(join(dir, 'missing', 'c.key'), id)).toThrow(/cannot create key file .*missing.*c\.key/);
  });

  it.skipIf(!posix)('refuses a file that group or others may access, naming the chmod fix', () => {
    const path = join(tempDir(), 'north.key');
    writeSecretKeyFile(path, generateIdentity());
    for (const mode of [0o640, 0o604, 0o620, 0o644]) {
      chmodSync(path, mode);
      expect(() => readSecretKeyFile(path)).toThrow(`key file ${path} is accessible by group or others (mode 0${mode.toString(8)}); a secret key must be private to its owner: run chmod 600 ${path}`);
    }
    chmodSync(path, 0o400);
    expect(readSecretKeyFile(path).publicKey).toHaveLength(32);
    const spaced = join(tempDir(), "it's a key");
    writeSecretKeyFile(spaced, generateIdentity());
    chmodSync(spaced, 0o644);
    expect(() => readSecretKeyFile(spaced)).toThrow(`run chmod 600 '${spaced.replaceAll("'", `'\\''`)}'`);
  });

  it('explains what is wrong with a malformed or corrupt file', () => {
    const dir = tempDir();
    const id = generateIdentity();
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    };
    const corrupt = new Uint8Array(id.secretKey);
    corrupt[40] = corrupt[40]! ^ 1;
    expect(readSecretKeyFile(file('crlf.key', `# comment\r\n\r\n  ${encodeBase64(id.secretKey)}  \r\n`)).publicKey).toEqual(id.publicKey);
    expect(() => readSecretKeyFile(file('empty.key', '# only a comment\n'))).toThrow(/empty\.key: expected one line with the base64 secret key besides # comments, found 0/);
    expect(() => readSecretKeyFile(file('two.key', `${encodeBase64(id.secretKey)}\n${encodeBase64(id.secretKey)}\n`))).toThrow(/found 2/);
    expect(() => readSecretKeyFile(file('pub.key', `${encodeBase64(id.publicKey)}\n`))).toThrow(/secret key in .*pub\.key: expected base64 of 64 bytes \(88 characters\), got 44 characters/);
    expect(() => readSecretKeyFile(file('corrupt.key', `${encodeBase64(corrupt)}\n`))).toThrow(/secret key in .*corrupt\.key is inconsistent/);
    expect(() => readSecretKeyFile(join(dir, 'absent.key'))).toThrow(/cannot read key file .*absent\.key: ENOENT/);
    mkdirSync(join(dir, 'folder.key'), { mode: 0o700 });
    expect(() => readSecretKeyFile(join(dir, 'folder.key'))).toThrow(/not a regular file/);
  });
});
