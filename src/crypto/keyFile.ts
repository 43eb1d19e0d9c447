import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { identityFromBase64, identityFromSecretKey, keyFingerprint, type Identity } from './identity.js';
import { encodeBase64, KeyError } from './keyEncoding.js';

/** Owner read/write only. */
export const SECRET_KEY_FILE_MODE = 0o600;
/** A key file is a few hundred bytes; anything far larger is the wrong file. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function errorCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function shellQuote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

/**
 * The file's text: comment lines (`#`) saying what it is and the public key to share, then the 64-byte
 * secret key (seed then public key, tweetnacl's format) in base64 on one line. Comments are informational;
 * only the key line is read back.
 */
export function formatSecretKeyFile(identity: Identity): string {
  const publicKey = encodeBase64(identity.publicKey);
  return [
    '# Cohort identity: Ed25519 secret key, base64 of the 32-byte seed then the 32-byte public key (tweetnacl format).',
    '# Keep this file private (mode 0600, out of version control). Share only the public key:',
    `# public key ${publicKey} fingerprint ${keyFingerprint(identity.publicKey)}`,
    encodeBase64(identity.secretKey),
    '',
  ].join('\n');
}

/**
 * Writes `identity` to a new file created with mode 0600. Never overwrites: an existing file (a key that
 * may be the only copy of a node's identity) is an error naming it.
 */
export function writeSecretKeyFile(path: string, identity: Identity): void {
  const checked = identityFromSecretKey(identity.secretKey, 'identity to write');
  if (!Buffer.from(checked.publicKey).equals(Buffer.from(identity.publicKey))) {
    throw new KeyError('identity to write: its public key is not the one embedded in its secret key');
  }
  try {
    // 'wx' fails if the path exists (O_CREAT | O_EXCL), also for a symlink planted there; the umask can only narrow the mode.
    writeFileSync(path, formatSecretKeyFile(checked), { mode: SECRET_KEY_FILE_MODE, flag: 'wx' });
  } catch (e) {
    if (errorCode(e) === 'EEXIST') throw new KeyError(`${path} already exists; refusing to overwrite a key file (move it away or choose another path)`);
    throw new KeyError(`cannot create key file ${path}: ${errorText(e)}`);
  }
}

/**
 * Reads and checks a key file written by writeSecretKeyFile. On POSIX, refuses a file that group or others
 * may access (as ssh does for its private keys): the key may already have leaked, and the fix is named.
 */
export function readSecretKeyFile(path: string): Identity {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new KeyError(`cannot read key file ${path}: ${errorText(e)}`);
  }
  let text: string;
  try {
    // Permissions and contents come from the same open file, so a swap between the check and the read changes nothing.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new KeyError(`key file ${path} is not a regular file`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new KeyError(`key file ${path} is accessible by group or others (mode ${mode}); a secret key must be private to its owner: run chmod 600 ${shellQuote(path)}`);
    }
    if (stat.size > MAX_KEY_FILE_BYTES) throw new KeyError(`key file ${path} is ${stat.size} bytes; a key file is a few hundred (wrong file?)`);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length !== 1) {
    throw new KeyError(`key file ${path}: expected one line with the base64 secret key besides # comments, found ${lines.length}`);
  }
  return identityFromBase64(lines[0]!, `secret key in ${path}`);
}
