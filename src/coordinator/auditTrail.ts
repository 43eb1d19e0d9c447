/**
 * Where the coordinator records security-relevant events (connections, refusals, participation, payload
 * hashes, model versions, access changes). The hash-chained signed log in crypto/ implements it.
 */
export interface AuditTrail {
  append(type: string, data: Readonly<Record<string, unknown>>): void;
}

export const noAudit: AuditTrail = { append: () => undefined };
