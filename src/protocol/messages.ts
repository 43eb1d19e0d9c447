import { z } from 'zod';
import { dataSchemaSchema } from './dataSchema.js';
import { base64Of, examples, finite, metricsSchema, name, nonceField, publicKeyField, reason, round, signatureField, taskId } from './wireFields.js';

/**
 * The wire protocol, declared once: both ends validate every message they receive against these schemas
 * before doing any work. Small control messages travel as `msg` events; anything carrying weights travels
 * as a chunked stream whose `meta` is one of the stream schemas (streamMeta.ts, re-exported here with the shared
 * fields so one import serves both).
 */

export { MAX_EXAMPLES, MAX_METRICS, MAX_REASON, MAX_TASK_EXTRAS, metricsSchema, nonceField, publicKeyField, signatureField } from './wireFields.js';
export {
  evaluateConfigSchema,
  evaluateStreamSchema,
  finalStreamSchema,
  fitConfigSchema,
  fitResultStreamSchema,
  fitStreamSchema,
  payloadLayoutSchema,
  standardizeStreamSchema,
  statisticsResultStreamSchema,
  streamMetaSchema,
  type EncryptedGlobalMeta,
  type ModeHeader,
  type PayloadLayout,
  type StreamMeta,
  type StreamMetaOf,
} from './streamMeta.js';

export const tensorSpecSchema = z.object({
  name: z.string().min(1).max(1024),
  shape: z.array(z.number().int().min(0)).max(8),
});

export const capabilitiesSchema = z.object({
  backend: z.string().max(64),
  numTrainExamples: examples,
  numTestExamples: examples,
  cohortVersion: z.string().max(64),
  /** A fingerprint of the local data's schema (SHA-256 of the feature names), never the data. */
  datasetFingerprint: z.string().max(128).optional(),
  /** The data's schema (columns, types, levels, label), which the coordinator checks against the study's. */
  dataSchema: dataSchemaSchema.optional(),
});

// ---- control messages ----

export const helloSchema = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int(),
  name,
  /** The client's Ed25519 identity key, which the coordinator's access list must name. */
  identityKey: publicKeyField,
  nonce: nonceField,
  capabilities: capabilitiesSchema,
  modelSpec: z.array(tensorSpecSchema).max(100_000),
});

/** Coordinator -> client: proves the coordinator's key over both nonces; the client answers with `auth`. */
export const challengeSchema = z.object({
  type: z.literal('challenge'),
  protocolVersion: z.number().int(),
  runId: z.string().min(1).max(128),
  coordinatorKey: publicKeyField,
  nonce: nonceField,
  signature: signatureField,
});

export const authSchema = z.object({
  type: z.literal('auth'),
  signature: signatureField,
  /** The client's X25519 agreement key signed for this run (for CKKS key boxes): known from the first moment. */
  agreementKey: z.object({ publicKey: base64Of(32), signature: signatureField, holdsKey: z.boolean() }).optional(),
});

export const welcomeSchema = z.object({
  type: z.literal('welcome'),
  protocolVersion: z.number().int(),
  runId: z.string().min(1).max(128),
  clientId: z.string().min(1).max(128),
});

/** A refusal; with `retryAfterMs` it is transient (load limits) and the client may try again after that long. */
export const refusedSchema = z.object({ type: z.literal('refused'), reason, retryAfterMs: z.number().int().min(0).max(3_600_000).optional() });

export const fitFailureSchema = z.object({ type: z.literal('fit-failure'), round, taskId, reason });

export const evaluateResultSchema = z.object({
  type: z.literal('evaluate-result'),
  round,
  taskId,
  numExamples: examples,
  loss: finite,
  metrics: metricsSchema,
  /** Over (run, round, task, client, claims, hash of the claims): see crypto/handshake.ts. */
  signature: signatureField,
});

export const evaluateFailureSchema = z.object({ type: z.literal('evaluate-failure'), round, taskId, reason });

export const runEndSchema = z.object({ type: z.literal('run-end'), reason });

/** Coordinator -> client: send the moments of your training features (federated standardization). */
export const statisticsRequestSchema = z.object({ type: z.literal('statistics-request'), taskId });
export const statisticsFailureSchema = z.object({ type: z.literal('statistics-failure'), taskId, reason });

// ---- audit anchoring (crypto/auditAnchor.ts) ----

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const auditSeq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Coordinator -> a round's participant: the head of the coordinator's audit chain after the round, as signed in its log. */
export const auditHeadSchema = z.object({ type: z.literal('audit-head'), round, seq: auditSeq, hash: sha256Hex, signature: signatureField });
/** Participant -> coordinator: its identity key's countersignature of (run, round, seq, hash). */
export const auditCountersignSchema = z.object({ type: z.literal('audit-countersign'), round, seq: auditSeq, hash: sha256Hex, signature: signatureField });

// ---- CKKS key distribution (the coordinator relays; it can open nothing) ----

const agreementKeyField = base64Of(32);

/** Client -> coordinator after welcome: its X25519 agreement key, signed by its identity for this run. */
export const agreementKeySchema = z.object({
  type: z.literal('agreement-key'),
  publicKey: agreementKeyField,
  signature: signatureField,
  /** True on a reconnect when the client still holds this run's CKKS key. */
  holdsKey: z.boolean(),
});

const recipientSchema = z.object({ name, identityKey: publicKeyField, agreementKey: agreementKeyField, agreementSignature: signatureField });
/** Coordinator -> the dealer (or another key holder): box the CKKS secret key for these clients. */
const keyEpoch = z.number().int().min(1).max(1_000_000);
export const ckksDealSchema = z.object({ type: z.literal('ckks-deal'), generate: z.boolean(), epoch: keyEpoch, recipients: z.array(recipientSchema).max(10_000) });

const keyBoxSchema = z.object({ recipient: name, nonce: base64Of(24), box: z.string().max(1 << 20), signature: signatureField });
/** Dealer -> coordinator: one sealed box per recipient it accepted, and why it refused the others. */
export const ckksBoxesSchema = z.object({
  type: z.literal('ckks-boxes'),
  boxes: z.array(keyBoxSchema).max(10_000),
  refused: z.array(z.object({ recipient: name, reason: z.string().max(1024) })).max(10_000).optional(),
});

/** Coordinator -> recipient: a key holder's box, with the holder's signed agreement key to open it. */
export const ckksKeySchema = z.object({
  type: z.literal('ckks-key'),
  /** The key holder that sealed the box (the dealer, or a client the dealer gave the key to). */
  dealer: name,
  epoch: keyEpoch,
  dealerIdentityKey: publicKeyField,
  dealerAgreementKey: agreementKeyField,
  dealerAgreementSignature: signatureField,
  keyBox: keyBoxSchema,
});

// ---- SecAgg+ (Bonawitz et al. 2017 with Bell et al. 2020's neighbour graph; the coordinator relays, it opens nothing) ----

const secaggRound = round.min(1);
/** A cohort, a survivor set: at most this many clients take part in one SecAgg+ round. */
export const MAX_SECAGG_COHORT = 10_000;
const secaggNames = z.array(name).max(MAX_SECAGG_COHORT);
const shareBoxFields = { nonce: base64Of(12), ciphertext: z.string().max(1024) };

/** Coordinator -> client: make fresh round keys (setup). */
export const secaggSetupSchema = z.object({ type: z.literal('secagg-setup'), round: secaggRound });
/** Client -> coordinator: its fresh X25519 keys for share boxes and masks and a commitment to its self-mask seed, signed. */
export const secaggRoundKeysSchema = z.object({
  type: z.literal('secagg-round-keys'),
  round: secaggRound,
  encryptionKey: publicKeyField,
  maskKey: publicKeyField,
  selfMaskCommitment: base64Of(32),
  signature: signatureField,
});
/** Coordinator -> client: every member's signed round keys; the client derives the graph and shares with its neighbours. */
export const secaggShareKeysSchema = z.object({
  type: z.literal('secagg-share-keys'),
  round: secaggRound,
  neighbours: z.number().int().min(2).max(254),
  threshold: z.number().int().min(2).max(254),
  members: z
    .array(z.object({ name, identityKey: publicKeyField, encryptionKey: publicKeyField, maskKey: publicKeyField, selfMaskCommitment: base64Of(32), signature: signatureField }))
    .max(MAX_SECAGG_COHORT),
});
/** Client -> coordinator: one encrypted box of shares per neighbour. */
export const secaggSharesSchema = z.object({ type: z.literal('secagg-shares'), round: secaggRound, boxes: z.array(z.object({ recipient: name, ...shareBoxFields })).max(254) });
/** Coordinator -> client: the boxes its neighbours sealed for it. */
export const secaggForwardSchema = z.object({ type: z.literal('secagg-forward'), round: secaggRound, boxes: z.array(z.object({ sender: name, ...shareBoxFields })).max(254) });
/** Coordinator -> client: the survivors (whose masked input arrived); the client signs the set (consistency round). */
export const secaggConsistencySchema = z.object({ type: z.literal('secagg-consistency'), round: secaggRound, survivors: secaggNames });
export const secaggSurvivorsSignedSchema = z.object({ type: z.literal('secagg-survivors-signed'), round: secaggRound, signature: signatureField });
/** Coordinator -> client: the survivors' signatures over the set; the client checks them, then reveals shares. */
export const secaggUnmaskSchema = z.object({
  type: z.literal('secagg-unmask'),
  round: secaggRound,
  survivors: secaggNames,
  signatures: z.array(z.object({ name, signature: signatureField })).max(MAX_SECAGG_COHORT),
});
/** Client -> coordinator: per neighbour, the share of its self-mask seed (survivor) or of its mask key (dropped), never both. */
export const secaggRevealSchema = z.object({
  type: z.literal('secagg-reveal'),
  round: secaggRound,
  shares: z.array(z.object({ owner: name, kind: z.enum(['self', 'mask']), share: base64Of(33) })).max(254),
});

export const messageSchema = z.discriminatedUnion('type', [
  helloSchema,
  challengeSchema,
  authSchema,
  welcomeSchema,
  refusedSchema,
  fitFailureSchema,
  evaluateResultSchema,
  evaluateFailureSchema,
  runEndSchema,
  statisticsRequestSchema,
  statisticsFailureSchema,
  agreementKeySchema,
  ckksDealSchema,
  ckksBoxesSchema,
  ckksKeySchema,
  secaggSetupSchema,
  secaggRoundKeysSchema,
  secaggShareKeysSchema,
  secaggSharesSchema,
  secaggForwardSchema,
  secaggConsistencySchema,
  secaggSurvivorsSignedSchema,
  secaggUnmaskSchema,
  secaggRevealSchema,
  auditHeadSchema,
  auditCountersignSchema,
]);
export type Message = z.infer<typeof messageSchema>;
export type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>;

/** Formats a zod error as "field: problem; field: problem" so refusals name what to fix. */
export function describeZodError(error: z.ZodError): string {
  // Bounded: a hostile message must not make its own refusal large (or slow to build).
  const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}...` : text);
  const shown = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length ? issue.path.map((p) => clip(String(p), 40)).join('.') : '(message)';
    return `${path}: ${clip(issue.message, 120)}`;
  });
  const more = error.issues.length > shown.length ? `; and ${error.issues.length - shown.length} more` : '';
  return clip(shown.join('; '), 500) + more;
}
