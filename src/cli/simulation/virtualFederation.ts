import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { readSecretKeyFile } from '../../crypto/keyFile.js';
import type { AllowedPeer } from '../../coordinator/accessList.js';
import { canonicalJson, type JsonValue } from '../../crypto/canonicalJson.js';
import { deriveIdentity } from '../../crypto/derivedIdentity.js';
import { ED25519_SEED_BYTES, type Identity } from '../../crypto/identity.js';
import { partitionClientCount } from '../../client/partition/index.js';
import type { ExperimentConfig } from '../config/experimentConfig.js';

/**
 * A partition's virtual clients across processes: names, the experiment fingerprint their keys are bound
 * to, and their identities derived from one secret (the `cohort keygen` file that access.key names).
 *
 * Trust model: whoever holds that file can act as any of the experiment's virtual clients, and the
 * coordinator, which derives the allowlist from it, could too. That suits a simulation, where one researcher
 * runs the coordinator and every host and no hospital's data is at stake; real hospitals keep their own keys.
 */

/** Client i of n, named as `cohort simulate` names it (zero-padded, so name order is index order). */
export function virtualClientName(index: number, count: number): string {
  return `client-${String(index).padStart(String(count - 1).length, '0')}`;
}

/**
 * SHA-256 (hex) of what decides each virtual client's rows: the experiment's name and seed, its partition,
 * its data settings and scaling. Keys are derived under it, so a host whose experiment file differs in any of
 * these derives keys the coordinator does not hold, and is refused instead of training on other rows.
 */
export function experimentFingerprint(config: ExperimentConfig): string {
  const decisive = { name: config.name, seed: config.seed, partition: config.partition ?? null, dataDefaults: config.dataDefaults, standardization: config.standardization, publicScaling: config.publicScaling ?? null };
  // Through JSON first: zod leaves optional fields as undefined, which canonical JSON refuses.
  return createHash('sha256').update(canonicalJson(JSON.parse(JSON.stringify(decisive)) as JsonValue)).digest('hex');
}

export class VirtualFederation {
  readonly count: number;
  readonly fingerprint: string;

  /** `secret`: the access key's 64 bytes (only its 32-byte seed is used). */
  constructor(
    config: ExperimentConfig,
    private readonly secret: Uint8Array,
  ) {
    if (!config.partition) throw new Error('virtual clients come from a partition: add partition: { type: iid, clients: <n> } (or another partitioner) to the experiment');
    this.count = partitionClientCount(config.partition);
    this.fingerprint = experimentFingerprint(config);
  }

  name(index: number): string {
    return virtualClientName(index, this.count);
  }

  identity(index: number): Identity {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) throw new RangeError(`virtual client ${index} is outside 0..${this.count - 1}`);
    return deriveIdentity(this.secret.subarray(0, ED25519_SEED_BYTES), `virtual-client/${this.fingerprint}/${this.name(index)}`);
  }

  /** The coordinator's allowlist: every virtual client's name and public key, derived as the hosts derive them. */
  allowlist(): AllowedPeer[] {
    return Array.from({ length: this.count }, (_, i) => ({ name: this.name(i), publicKey: this.identity(i).publicKey, role: 'client' as const }));
  }
}

/**
 * The federation of an experiment whose access mode is virtual-clients, its key file read from beside the config
 * (or from `keyPath`, where a host keeps it elsewhere: a Kubernetes secret's mount).
 */
export function loadVirtualFederation(config: ExperimentConfig, baseDir: string, keyPath?: string): VirtualFederation {
  const access = config.access;
  if (access?.mode !== 'virtual-clients') {
    throw new Error('virtual clients need access: { mode: virtual-clients, key: <file> } in the experiment: their keys are derived from that `cohort keygen` file, on the coordinator and on every host');
  }
  return new VirtualFederation(config, readSecretKeyFile(keyPath ?? resolve(baseDir, access.key)).secretKey);
}

/**
 * Connection limits for a coordinator serving `clients` virtual clients from a few addresses (loopback, or a
 * few hosts): every client may connect from one address at once, and come back after a refusal.
 */
export function virtualClientLimits(clients: number): { maxConnectionsPerMinute: number; maxPendingHandshakes: number; maxConnectionsPerAddress: number } {
  return { maxConnectionsPerMinute: Math.max(120, clients * 3), maxPendingHandshakes: Math.max(64, clients), maxConnectionsPerAddress: Math.max(128, clients * 2) };
}
