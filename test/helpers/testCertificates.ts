import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM text of one certificate and its private key. */
export interface CertifiedKey {
  readonly cert: string;
  readonly key: string;
}

/** A throwaway PKI for TLS tests: one CA, a server certificate for 127.0.0.1/localhost and client certificates. */
export interface TestPki {
  readonly ca: CertifiedKey;
  readonly server: CertifiedKey;
  readonly client: CertifiedKey;
  /** A client certificate from a second, unrelated CA (valid in itself, but not signed by `ca`). */
  readonly strangerClient: CertifiedKey;
}

// EC P-256: key generation takes milliseconds, where RSA-2048 takes a noticeable fraction of a second.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Generates the certificates with the `openssl` binary into a temporary folder (removed afterwards), so the
 * tests exercise real X.509 chains and hostname checks rather than fixtures that expire.
 */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-pki-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  let serial = 1;

  const makeCa = (name: string): CertifiedKey => {
    openssl('req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    return { cert: read(`${name}.crt`), key: read(`${name}.key`) };
  };
  /** A leaf certificate for `name` signed by the CA in files `${caName}.crt`/`.key`, with `extensions` (openssl x509v3 syntax). */
  const makeLeaf = (name: string, caName: string, extensions: string): CertifiedKey => {
    openssl('req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-set_serial', String(serial++),
      '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    return { cert: read(`${name}.crt`), key: read(`${name}.key`) };
  };

  try {
    const ca = makeCa('cohort-test-ca');
    const server = makeLeaf('127.0.0.1', 'cohort-test-ca', 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
    const client = makeLeaf('hospital-client', 'cohort-test-ca', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth');
    makeCa('stranger-ca');
    const strangerClient = makeLeaf('stranger-client', 'stranger-ca', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth');
    return { ca, server, client, strangerClient };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
