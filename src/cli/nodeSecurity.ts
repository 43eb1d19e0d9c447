import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { AccessList, type AllowedPeer } from '../coordinator/accessList.js';
import type { AuditChainHead, AuditTrail } from '../coordinator/auditTrail.js';
import { AuditLog } from '../crypto/auditLog.js';
import { ed25519AuditSigner } from '../crypto/auditSigner.js';
import type { JsonObject } from '../crypto/canonicalJson.js';
import { generateIdentity, keyFingerprint, publicKeyFromBase64, type Identity } from '../crypto/identity.js';
import { encodeBase64 } from '../crypto/keyEncoding.js';
import { readSecretKeyFile } from '../crypto/keyFile.js';
import type { ClientSecurityPolicy } from '../client/security/securityPolicy.js';
import type { accessConfigSchema, clientSecurityConfigSchema, identityConfigSchema } from './config/securityConfig.js';

/** The configured identity, or a fresh one for this process (said aloud: nobody can pin an ephemeral key). */
export function loadIdentity(config: z.infer<typeof identityConfigSchema> | undefined, baseDir: string, print: (line: string) => void): { identity: Identity; persistent: boolean } {
  if (config) {
    const identity = readSecretKeyFile(resolve(baseDir, config.key));
    print(`identity ${keyFingerprint(identity.publicKey)} (${encodeBase64(identity.publicKey)})`);
    return { identity, persistent: true };
  }
  const identity = generateIdentity();
  print(`identity: a fresh key for this run, ${encodeBase64(identity.publicKey)} (set identity.key to a \`cohort keygen\` file to keep one)`);
  return { identity, persistent: false };
}

export function accessFromConfig(config: z.infer<typeof accessConfigSchema>): AccessList {
  if (config.mode === 'open') return AccessList.open();
  if (config.mode === 'virtual-clients') throw new Error('access mode virtual-clients is derived from the experiment (loadVirtualFederation), not from the access section alone');
  return AccessList.of(allowedPeers(config.peers));
}

export function allowedPeers(peers: readonly { name: string; publicKey: string; role: AllowedPeer['role'] }[]): AllowedPeer[] {
  return peers.map((p) => ({ name: p.name, role: p.role, publicKey: publicKeyFromBase64(p.publicKey, `access.peers "${p.name}" publicKey`) }));
}

export function readPem(baseDir: string, path: string | undefined): string | undefined {
  return path === undefined ? undefined : readFileSync(resolve(baseDir, path), 'utf8');
}

/**
 * Opens the signed audit log as the coordinator's or client's AuditTrail. Values that JSON cannot carry
 * are normalized. A failed append is logged and never thrown into the round it describes; with `onFailure`
 * (fail-closed) it is also reported there, so the caller can stop rather than go on unrecorded.
 */
export function openAuditTrail(path: string, identity: Identity, log: Logger, onFailure?: (error: Error) => void): AuditTrail & { close(): void; readonly path: string } {
  const auditLog = AuditLog.open(path, ed25519AuditSigner(identity.secretKey));
  let head: AuditChainHead | undefined;
  return {
    path,
    append: (type, data) => {
      try {
        const entry = auditLog.append(type, JSON.parse(JSON.stringify(data)) as JsonObject);
        head = { seq: entry.seq, hash: entry.hash, signature: entry.sig };
      } catch (e) {
        log.error({ type, error: (e as Error).message }, 'could not append to the audit log');
        onFailure?.(e as Error);
      }
    },
    head: () => head,
    close: () => auditLog.close(),
  };
}

/** A client config's `security:` section as the node's policy (roster keys decoded). */
export function securityPolicy(config: z.infer<typeof clientSecurityConfigSchema>): ClientSecurityPolicy {
  const { roster, ...rest } = config;
  return {
    ...rest,
    ...(roster ? { roster: roster.map((r) => ({ name: r.name, identityKey: publicKeyFromBase64(r.publicKey, `security.roster "${r.name}" publicKey`) })) } : {}),
  };
}
