/**
 * Where the coordinator records security-relevant events (connections, refusals, participation, payload
 * hashes, model versions, access changes). The hash-chained signed log in crypto/ implements it.
 */
export interface AuditTrail {
  /** Records one event: its type and JSON data. */
  append(type: string, data: Readonly<Record<string, unknown>>): void;
  /** The chain's last entry (seq, hash and its signature), for anchoring; absent where no chain is kept. */
  head?(): AuditChainHead | undefined;
}

/** The last entry of a hash-chained audit log, as written. */
export interface AuditChainHead {
  /** The entry's sequence number, from 0. */
  readonly seq: number;
  /** Hex SHA-256 of the entry. */
  readonly hash: string;
  /** Base64 Ed25519 signature of the entry's hash by the log's signer (see crypto/auditEntry.ts). */
  readonly signature: string;
}

export const noAudit: AuditTrail = { append: () => undefined };
