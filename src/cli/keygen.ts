import { generateIdentity, keyFingerprint } from '../crypto/identity.js';
import { encodeBase64 } from '../crypto/keyEncoding.js';
import { writeSecretKeyFile } from '../crypto/keyFile.js';

/**
 * `cohort keygen --out <file>`: creates a node's Ed25519 identity, writes the secret key to a new file
 * (mode 0600, never overwriting) and prints the public key to put in the coordinator's allowed clients
 * (or, for the coordinator's own key, to pin in each client's config).
 */
export function runKeygen(outPath: string, print: (line: string) => void): void {
  const identity = generateIdentity();
  writeSecretKeyFile(outPath, identity);
  print(`wrote a new secret key to ${outPath} (mode 0600): keep it private and backed up, it is this node's identity`);
  print(`public key: ${encodeBase64(identity.publicKey)}`);
  print(`fingerprint: ${keyFingerprint(identity.publicKey)}`);
  print('share the public key: list it among the coordinator\'s allowed clients, or pin it in the clients\' configs if this is the coordinator\'s key');
}
