import type { AllowedPeer } from '../../src/coordinator/accessList.js';
import type { TensorSpec } from '../../src/protocol/tensors.js';

/** What a coordinator admits to its challenge, stated independently of its zod schemas. */
export interface HelloRules {
  readonly protocolVersion: number;
  /** Who the access list admits. */
  readonly peers: readonly AllowedPeer[];
  /** The federation's model, which a hello from a peer with the client role must match (observers train nothing). */
  readonly spec: readonly TensorSpec[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, min: number, max: number): v is string => typeof v === 'string' && v.length >= min && v.length <= max;
/** Padded standard base64 of the length a 32-byte value takes (the wire format of keys and nonces). */
const isBase64Of32 = (v: unknown): v is string => typeof v === 'string' && v.length === 44 && /^[A-Za-z0-9+/]*={0,2}$/.test(v);

/**
 * The protocol's rules for a hello (src/protocol/messages.ts and wireFields.ts comments) as a plain predicate: the
 * test oracle for whether the coordinator must answer a first hello with a challenge (true) or refuse it.
 * Unknown fields are ignored, as the wire protocol says.
 */
export function admissibleHello(m: unknown, rules: HelloRules): boolean {
  if (!isRecord(m) || m.type !== 'hello' || m.protocolVersion !== rules.protocolVersion) return false;
  if (!isText(m.name, 1, 128) || !isBase64Of32(m.identityKey) || !isBase64Of32(m.nonce)) return false;
  const peer = rules.peers.find((p) => p.name === m.name);
  if (!peer || !Buffer.from(m.identityKey, 'base64').equals(Buffer.from(peer.publicKey))) return false;
  const c = m.capabilities;
  if (!isRecord(c) || !isText(c.backend, 0, 64) || !isText(c.cohortVersion, 0, 64) || !isCount(c.numTrainExamples) || !isCount(c.numTestExamples)) return false;
  if (c.datasetFingerprint !== undefined && !isText(c.datasetFingerprint, 0, 128)) return false;
  const spec = m.modelSpec;
  if (!Array.isArray(spec) || spec.length > 100_000) return false;
  const wellFormed = spec.every((t: unknown) => isRecord(t) && isText(t.name, 1, 1024) && Array.isArray(t.shape) && t.shape.length <= 8 && t.shape.every(isCount));
  if (!wellFormed) return false;
  if (peer.role !== 'client') return true;
  return spec.length === rules.spec.length && spec.every((t: unknown, i) => {
    const expected = rules.spec[i]!;
    if (!isRecord(t) || t.name !== expected.name || !Array.isArray(t.shape) || t.shape.length !== expected.shape.length) return false;
    return t.shape.every((d: unknown, j) => d === expected.shape[j]);
  });
}
